"""Feet on the floor: a person whose depth is wrong is moved along their ankle's ray onto the fitted floor."""

import numpy as np
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS as REST
from crowdmocap_addon.core.result.schema import GroundPlane, PinholeCamera
from inference_server.motion.feet_on_floor import MAX_DEPTH_RATIO, ground_person
from tests.inference_server.motion.test_shape_ground_contacts import camera_from_world

FPS = 30.0
CAMERA = PinholeCamera(focal_px=900.0, principal_point=(384.0, 288.0))
SMPL_TO_WORLD = Rotation.from_euler("x", 90, degrees=True).as_matrix()  # SMPL y up -> world z up


def _walker(frames: int = 60):
    """A person striding across the view of a camera 3 m up, both feet on the floor each frame.

    Returns the true (T, 24, 3) camera-frame joints and translation, the floor and the ankle keypoints.
    """
    rotation, translation = camera_from_world()
    t = np.arange(frames)
    body_pose = np.zeros((frames, 23, 3))
    body_pose[:, 0, 0] = body_pose[:, 1, 0] = 0.3 * np.sin(2 * np.pi * t / 30)  # hips swing in antiphase ...
    body_pose[:, 1, 0] *= -1
    heading = Rotation.from_euler("z", (60 + 0.5 * t)[:, None], degrees=True)  # ... while the walker turns
    orient = Rotation.from_matrix(rotation) * heading * Rotation.from_matrix(SMPL_TO_WORLD)
    posed = forward_kinematics(REST, orient.as_rotvec(), body_pose, np.zeros((frames, 3))).joints
    up = rotation @ np.array([0.0, 0.0, 1.0])
    floor = GroundPlane(normal=tuple(up), offset=float(-up @ translation))
    path = np.array([-2.0, 9.0, 0.0]) + np.outer(0.04 * t, [1.0, 0.3, 0.0])  # on the floor, world frame
    transl = path @ rotation.T + translation
    # then up or down until the lowest foot joint touches the floor
    transl -= np.outer(((posed[:, [7, 8, 10, 11]] + transl[:, None]) @ up).min(axis=1) + floor.offset, up)
    joints = posed + transl[:, None]
    ankles = joints[:, [7, 8]]
    keypoints = np.concatenate([CAMERA.project(ankles),
                                np.ones((frames, 2, 1))], axis=2)  # fmt: skip
    return joints, transl, floor, keypoints


def _misplace(joints, transl, ratio):
    """The same poses with the translation scaled about the camera centre (a wrong monocular depth)."""
    wrong = transl * np.asarray(ratio, dtype=np.float64).reshape(-1, 1)
    return joints - transl[:, None] + wrong[:, None], wrong


def _heights(joints, floor):
    return joints @ np.asarray(floor.normal) + floor.offset


def test_a_person_placed_too_near_is_put_back_on_the_floor_where_the_ankle_is_seen():
    joints, truth, floor, ankles = _walker()
    near, transl = _misplace(joints, truth, 0.85)
    assert _heights(near, floor)[:, [7, 8, 10, 11]].min(axis=1).min() > 0.15  # hovering before
    fixed = ground_person(near, transl, ankles, np.ones(len(truth)), camera=CAMERA, ground=floor, fps=FPS)
    assert fixed.grounded.all()
    error = np.linalg.norm(fixed.transl - truth, axis=1)
    assert error.max() < 0.01, error.max()
    moved = near + fixed.shift[:, None]
    assert np.abs(_heights(moved, floor)[:, [7, 8, 10, 11]].min(axis=1)).max() < 0.01


def test_a_depth_error_over_part_of_the_clip_is_corrected_there_and_filled_frames_follow():
    joints, truth, floor, ankles = _walker()
    ratio = np.ones(len(truth))
    ratio[20:40] = 1.15  # e.g. a half-occluded stretch placed too deep
    wrong, transl = _misplace(joints, truth, ratio)
    confidence = np.ones(len(truth))
    ankles = ankles.copy()
    ankles[28:32, :, 2] = 0.0  # both ankles hidden for a few frames
    confidence[28:32] = 0.0
    fixed = ground_person(wrong, transl, ankles, confidence, camera=CAMERA, ground=floor, fps=FPS)
    assert not fixed.grounded[28:32].any() and fixed.grounded[:28].all()
    error, before = np.linalg.norm(fixed.transl - truth, axis=1), np.linalg.norm(transl - truth, axis=1)
    assert before[20:40].min() > 1.0
    # A running median follows a sudden error without smearing it into the frames around it; the hidden
    # frames take their neighbours' correction.
    assert error.max() < 0.03, error.max()  # measured 2.4 cm: the walk changes the correction within a window


def test_nothing_moves_without_a_floor_below_the_camera_or_a_ray_that_comes_down():
    joints, truth, floor, ankles = _walker(10)
    ones = np.ones(len(truth))
    under = GroundPlane(normal=floor.normal, offset=-1.0)  # the camera is below this "floor"
    kept = ground_person(joints, truth, ankles, ones, camera=CAMERA, ground=under, fps=FPS)
    np.testing.assert_array_equal(kept.transl, truth)
    high = ankles.copy()
    high[..., 1] = -5000.0  # ankle keypoints far above the horizon: their rays never reach the floor
    kept = ground_person(joints, truth, high, ones, camera=CAMERA, ground=floor, fps=FPS)
    assert not kept.grounded.any() and np.abs(kept.shift).max() < 1e-9


def test_a_cut_far_from_the_estimated_depth_is_taken_only_part_of_the_way():
    joints, truth, floor, ankles = _walker(10)
    near, transl = _misplace(joints, truth, 0.4)  # 2.5x too near: more than the trusted ratio
    fixed = ground_person(near, transl, ankles, np.ones(len(truth)), camera=CAMERA, ground=floor, fps=FPS)
    ratio = (near + fixed.shift[:, None])[:, [7, 8], 2] / near[:, [7, 8], 2]  # per ankle; the planted one's is kept
    assert np.isclose(ratio, MAX_DEPTH_RATIO, rtol=0.02).any(axis=1).all(), ratio
