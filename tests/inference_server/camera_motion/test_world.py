"""People seen by a turning, zooming camera, moved into the first frame's camera: exact on synthetic people."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.body.skeleton import change_frame, forward_kinematics
from crowdmocap_addon.core.result.schema import PinholeCamera
from inference_server.camera_motion.path import CameraPath
from inference_server.camera_motion.world import (
    ClipCamera,
    camera_warnings,
    person_in_world,
    track_at_reference_zoom,
    with_image_keypoints,
)
from inference_server.estimators.person_motion import PersonMotion
from inference_server.tracking.tracker import Track
from tests.helpers.captures import make_person

CENTRE = (384.0, 288.0)
FRAMES = np.arange(20, 32)  # video frames 20..31


def _camera(reliable: np.ndarray | None = None) -> ClipCamera:
    t = np.linspace(0.0, 1.0, len(FRAMES))[:, None]
    rotations = Rotation.from_euler("yxz", t * [12.0, -5.0, 4.0], degrees=True).as_matrix()
    path = CameraPath(rotations=rotations, focals=900.0 * 1.4 ** t[:, 0],
                      reliable=np.ones(len(FRAMES), bool) if reliable is None else reliable)  # fmt: skip
    return ClipCamera(frames=FRAMES, path=path, principal_point=CENTRE)


def _project(points: np.ndarray, focal: np.ndarray) -> np.ndarray:
    return points[..., :2] / points[..., 2:] * focal[:, None, None] + np.asarray(CENTRE)


def _seen_by(camera: ClipCamera, frames: np.ndarray):
    """A walker in the world, and the same walker as each frame's camera placed them and saw their joints."""
    world = make_person(3, frames, np.random.default_rng(4))
    rows = camera.rows(frames)
    orient, transl = change_frame(world.rest_joints, world.global_orient, world.transl, camera.path.rotations[rows],
                                  np.zeros(3))  # fmt: skip
    joints = forward_kinematics(world.rest_joints, orient, world.body_pose, transl).joints[:, :17]
    keypoints = np.concatenate([_project(joints, camera.path.focals[rows]), np.ones((len(frames), 17, 1))], axis=2)
    track = Track(id=3, frames=frames, keypoints=keypoints, boxes=np.tile([1.0, 2.0, 30.0, 90.0], (len(frames), 1)),
                  observed=np.ones(len(frames), bool), scores=np.ones(len(frames)), world_landmarks=None)  # fmt: skip
    seen = PersonMotion(track=track, global_orient=orient, body_pose=world.body_pose, transl=transl,
                        betas=world.betas, rest_joints=world.rest_joints, confidence=np.ones(len(frames)))  # fmt: skip
    return world, seen


def test_each_frame_turned_into_the_first_camera_is_the_person_in_the_world():
    camera = _camera()
    frames = FRAMES[3:10]
    world, seen = _seen_by(camera, frames)
    moved = person_in_world(seen, camera)
    expected = forward_kinematics(world.rest_joints, world.global_orient, world.body_pose, world.transl).joints
    got = forward_kinematics(moved.rest_joints, moved.global_orient, moved.body_pose, moved.transl).joints
    np.testing.assert_allclose(got, expected, atol=1e-9)
    # the 2D evidence is what the first frame's camera would have seen: the world joints at its focal
    first = PinholeCamera(focal_px=float(camera.path.focals[0]), principal_point=CENTRE)
    np.testing.assert_allclose(moved.track.keypoints[..., :2], first.project(expected[:, :17]), atol=1e-6)
    np.testing.assert_array_equal(moved.track.boxes, seen.track.boxes)  # the clean-up reads no boxes
    assert not np.allclose(seen.track.keypoints, moved.track.keypoints, atol=5.0)  # the camera did move them


def test_keypoints_go_back_to_the_image_whatever_the_clean_up_kept_of_a_person():
    camera = _camera()
    _, seen = _seen_by(camera, FRAMES[2:11])
    moved = person_in_world(seen, camera)
    captured = make_person(9, FRAMES[5:9], np.random.default_rng(1))  # a piece the fit cut out of the person
    captured.keypoints2d = moved.track.keypoints[3:7].copy()
    back = with_image_keypoints(captured, camera)
    np.testing.assert_allclose(back.keypoints2d, seen.track.keypoints[3:7], atol=1e-6)


def test_zoom_normalised_keypoints_are_the_frame_camera_at_the_first_focal():
    camera = _camera()
    frames = FRAMES[4:12]
    _, seen = _seen_by(camera, frames)
    joints = forward_kinematics(seen.rest_joints, seen.global_orient, seen.body_pose, seen.transl).joints[:, :17]
    zoomed = track_at_reference_zoom(seen.track, camera)
    np.testing.assert_allclose(zoomed.keypoints[..., :2], _project(joints, np.full(len(frames), 900.0)), atol=1e-6)


def test_a_still_path_is_still_and_bridged_frames_are_reported_as_video_frames():
    unmoved = CameraPath(
        rotations=np.tile(np.eye(3), (12, 1, 1)), focals=np.full(12, 800.0), reliable=np.ones(12, bool)
    )
    still = ClipCamera(frames=FRAMES, path=unmoved, principal_point=CENTRE)
    assert still.still and not _camera().still and camera_warnings(still) == []
    reliable = np.ones(12, bool)
    reliable[[3, 4, 9]] = False
    (warning,) = camera_warnings(_camera(reliable))
    assert "3 frame(s)" in warning and "video frames 23-24, 29" in warning
    with pytest.raises(ValueError, match="not processed"):
        _camera().rows(np.array([19]))
