"""A capture from a camera that turns and zooms puts people where a still camera puts them.

The street clip is filmed again by a virtual camera (panning 8 deg, tilting -2 deg, rolling 2 deg and
zooming 1.15x over its 100 frames: every frame an exact homography of the real one), and the 2D stage's
recorded poses are replayed as that camera sees them (``tests/helpers/virtual_camera.py``). The people's
world pelvis paths are compared with a capture of the still original, matched by their 2D keypoints
moved back into it; "before" is the same moving clip captured as if the camera stood still.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.result.reader import read_result
from crowdmocap_addon.core.result.schema import CaptureResult
from inference_server.pipeline.options import CaptureOptions
from inference_server.pipeline.run import run_capture
from tests.helpers.same_people import pelvis_gaps
from tests.helpers.street import STREET, street_recording
from tests.helpers.virtual_camera import VirtualCamera, VirtualPoses, eased_move, moved_keypoints, write_virtual_clip

pytestmark = pytest.mark.slow
SIZE, SOURCE_FOCAL = (768, 576), 960.0  # the clip's size and default focal (its diagonal)
FRAMES = 100
# Only the estimators and the camera: the clean-up's decisions (re-linking, flips, grounding) are each
# taken on slightly different evidence and can go either way, which the second test measures.
ESTIMATES_ONLY = dict(temporal_fit=False, ground_feet=False, smoothing=0.0, fix_facing=False, foot_lock=False,
                      relink=False)  # fmt: skip


@cache
def _camera() -> VirtualCamera:
    return eased_move(FRAMES, SIZE, SOURCE_FOCAL, pan=8.0, tilt=-2.0, roll=2.0, zoom=1.15)


def _captures(tmp_path, **options) -> tuple[CaptureResult, CaptureResult, CaptureResult]:
    """The still original, the moving clip, and the moving clip captured as if still."""
    recording, camera = street_recording(), _camera()
    clip = write_virtual_clip(STREET, camera, tmp_path / "panning.mp4")
    moving = VirtualPoses(recording, camera)
    run_capture(STREET, tmp_path / "still.npz", CaptureOptions(**options), pose_backend_factory=recording.factory)
    run_capture(clip, tmp_path / "moving.npz", CaptureOptions(**options), pose_backend_factory=moving.factory)
    run_capture(clip, tmp_path / "before.npz", CaptureOptions(still_camera=True, **options),
                pose_backend_factory=moving.factory)  # fmt: skip
    return tuple(read_result(tmp_path / f"{name}.npz") for name in ("still", "moving", "before"))  # type: ignore[return-value]


def _path_errors(result: CaptureResult, still: CaptureResult) -> np.ndarray:
    """Metres between each person's world pelvis and the same person's in the still capture, every shared frame.

    The same person: keypoints that, moved back into the original image, land within 5 px (median) of theirs.
    """
    camera = _camera()

    def in_original(person, frames, rows):
        return np.stack([moved_keypoints(np.linalg.inv(camera.homography(int(f))), person.keypoints2d[i, :, :2])
                         for f, i in zip(frames, rows, strict=True)])  # fmt: skip

    errors = [gap for gap in pelvis_gaps(result.people, still.people, seen=in_original) if gap is not None]
    assert len(errors) >= 6, f"only {len(errors)} people matched the still capture"
    return np.concatenate(errors)


def test_the_measured_camera_puts_each_estimate_where_a_still_camera_does(tmp_path):
    still, moving, before = _captures(tmp_path, **ESTIMATES_ONLY)
    motion = moving.camera_motion
    assert motion is not None and still.camera_motion is None and before.camera_motion is None
    truth = _camera()
    turn = Rotation.from_rotvec(motion.rotation) * Rotation.from_matrix(truth.rotations[motion.frames]).inv()
    rotation_error = np.degrees(turn.magnitude()).max()
    focal_error = np.abs(motion.focal_px / truth.focals[motion.frames] - 1).max()
    after, assumed_still = _path_errors(moving, still), _path_errors(before, still)
    print(f"camera: worst {rotation_error:.2f} deg, {100 * focal_error:.2f} %; world pelvis vs the still capture: "
          f"median {np.median(after):.3f} m, 90th percentile {np.percentile(after, 90):.3f} m (camera assumed "
          f"still: {np.median(assumed_still):.2f} m, {np.percentile(assumed_still, 90):.2f} m)")  # fmt: skip
    assert rotation_error < 0.4 and focal_error < 0.005  # measured: 0.21 deg, 0.16 %
    assert np.abs(motion.centre).max() == 0.0  # a camera that only turns and zooms is given no translation
    assert np.median(after) < 0.1 and np.percentile(after, 90) < 0.2  # measured: 0.05 m, 0.11 m
    assert np.median(assumed_still) > 1.5  # measured: 2.5 m: people carried along by the camera's turn and zoom
    # the floor is fitted in the world, so it is the still capture's floor (from the people still in view)
    assert np.degrees(np.arccos(np.dot(moving.ground.normal, still.ground.normal))) < 2.0  # measured: 1.05 deg
    assert abs(moving.ground.offset - still.ground.offset) < 0.3  # measured: 0.15 m of the camera's 6.2 m height
    # the result keeps what the footage showed: keypoints in the moving image, not the world camera's
    person = max(moving.people, key=lambda p: p.num_frames)
    shown = street_recording().frames[int(person.frames[-1])].people
    seen = [moved_keypoints(truth.homography(int(person.frames[-1])), p.keypoints[:, :2]) for p in shown]
    assert min(np.median(np.linalg.norm(k - person.keypoints2d[-1, :, :2], axis=1)) for k in seen) < 1.0


def test_with_the_whole_clean_up_people_stay_on_their_still_camera_paths(tmp_path):
    still, moving, before = _captures(tmp_path)
    after, assumed_still = _path_errors(moving, still), _path_errors(before, still)
    print(f"whole clean-up: world pelvis vs the still capture median {np.median(after):.2f} m, 90th percentile "
          f"{np.percentile(after, 90):.2f} m (camera assumed still: {np.median(assumed_still):.2f} m, "
          f"{np.percentile(assumed_still, 90):.2f} m)")  # fmt: skip
    assert np.median(after) < 0.5 and np.median(assumed_still) > 1.5  # measured: 0.25 m vs 2.3 m
    assert np.median(after) < np.median(assumed_still) / 4
