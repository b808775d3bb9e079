"""A hand-held camera walked past people, rendered in Blender (``tests/helpers/handheld_scene.py``): its turn
and its movement measured from the rendered pixels, and the people put back where they stood.

The people are given to the world solve exactly as the truth places them in each frame's camera (the
estimators are not what is measured here); "before" is the camera's turn alone, as for a tripod that pans.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from inference_server.camera_motion.tracker import CameraTracker
from inference_server.camera_motion.world import ClipCamera, people_in_clip_world, people_in_world
from inference_server.estimators.person_motion import PersonMotion
from inference_server.tracking.tracker import Track
from tests.helpers.handheld_scene import FPS, PELVIS_HEIGHT, SIZE, HandheldTruth, render_handheld
from tests.helpers.synthetic_smpl import REST_JOINTS

pytestmark = [pytest.mark.slow, pytest.mark.blender]
FEET = [7, 8, 10, 11]


@pytest.fixture(scope="module")
def truth(tmp_path_factory) -> HandheldTruth:
    return render_handheld(tmp_path_factory.mktemp("handheld"), count=40)


def _measured(truth: HandheldTruth) -> tuple[ClipCamera, CameraTracker]:
    tracker = CameraTracker(truth.focal_px)
    for index, path in enumerate(truth.frames):
        tracker.update(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), list(truth.boxes[index]), index)
    frames = np.arange(len(truth.frames))
    return ClipCamera(frames=frames, path=tracker.finish(), principal_point=(SIZE[0] / 2, SIZE[1] / 2)), tracker


def _standing(truth: HandheldTruth) -> tuple[np.ndarray, np.ndarray]:
    """(T, P, 3) where an upright stand-in body's pelvis is, on each person's feet, and the rest skeleton."""
    up = (truth.pelvis[0, 0] - truth.feet[0, 0]) / PELVIS_HEIGHT  # the scene's +Z in the capture's world
    rest = REST_JOINTS - REST_JOINTS[0]
    return truth.feet + (rest[0, 1] - rest[FEET, 1].min()) * up, rest


def _estimates(truth: HandheldTruth) -> list[PersonMotion]:
    """Each stand-in as an upright body on its feet, in each frame's camera, as a perfect estimator would say."""
    up = (truth.pelvis[0, 0] - truth.feet[0, 0]) / PELVIS_HEIGHT
    upright = Rotation.align_vectors([up], [[0.0, 1.0, 0.0]])[0].as_matrix()  # SMPL's rest is y-up
    pelvis, rest = _standing(truth)
    frames, people = np.arange(len(truth.frames)), []
    for person in range(truth.feet.shape[1]):
        seen = truth.in_camera(pelvis[:, person : person + 1])[:, 0]
        ones = np.ones(len(frames))
        track = Track(id=person, frames=frames, keypoints=np.zeros((len(frames), 17, 3)), boxes=truth.boxes[:, person],
                      observed=ones > 0, scores=ones, world_landmarks=None)  # fmt: skip
        orient = Rotation.from_matrix(truth.rotations @ upright).as_rotvec()
        people.append(PersonMotion(track=track, global_orient=orient, body_pose=np.zeros((len(frames), 23, 3)),
                                   transl=seen - rest[0], betas=np.zeros(10), rest_joints=rest,
                                   confidence=ones))  # fmt: skip
    return people


def _pelvis_errors(people: list[PersonMotion], truth: HandheldTruth) -> np.ndarray:
    pelvis, _ = _standing(truth)
    fk = [forward_kinematics(p.rest_joints, p.global_orient, p.body_pose, p.transl).joints[:, 0] for p in people]
    return np.concatenate([np.linalg.norm(f - pelvis[:, i], axis=1) for i, f in enumerate(fk)])


def test_a_walked_camera_is_measured_from_its_pixels_and_people_stay_where_they_stood(truth):
    turning, tracker = _measured(truth)
    estimates = _estimates(truth)
    people, camera = people_in_clip_world(estimates, turning, tracker.floor_steps, 1.0 / FPS)
    assert camera.centres is not None and np.mean(tracker.translating) >= 0.85  # moving from the first floor step on
    rotation_error = np.degrees([Rotation.from_matrix(r @ t.T).magnitude()
                                 for r, t in zip(camera.path.rotations, truth.rotations, strict=True)])  # fmt: skip
    centre_error = np.linalg.norm(camera.centres - truth.centres, axis=1)
    after, before = _pelvis_errors(people, truth), _pelvis_errors(people_in_world(estimates, turning), truth)
    print(f"hand-held walk of {np.linalg.norm(truth.centres[-1]):.2f} m over {len(truth.frames)} frames: rotation "
          f"worst {rotation_error.max():.2f} deg, centre median {100 * np.median(centre_error):.1f} cm, worst "
          f"{100 * centre_error.max():.1f} cm, focal {camera.path.focals.min():.1f}-{camera.path.focals.max():.1f} "
          f"(true {truth.focal_px:.0f}); people's pelvis median {100 * np.median(after):.1f} cm, 90th percentile "
          f"{100 * np.percentile(after, 90):.1f} cm (camera turning only: {100 * np.median(before):.0f} cm, "
          f"{100 * np.percentile(before, 90):.0f} cm)")  # fmt: skip
    assert rotation_error.max() < 0.5  # measured 0.28 deg
    assert centre_error.max() < 0.05 and np.median(centre_error) < 0.02  # measured 3.1 cm, 1.2 cm
    assert np.abs(camera.path.focals / truth.focal_px - 1).max() < 0.01  # not read as a zoom (0.44 %: frames 1-4)
    assert np.median(after) < 0.05 and np.percentile(after, 90) < 0.1  # measured 2.0 cm, 3.3 cm
    assert np.median(before) > 0.4  # measured 80 cm: the camera's walk, carried by everyone
