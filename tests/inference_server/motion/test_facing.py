"""Front/back flips: frames where a walker faces against their walk are mirrored back."""

import numpy as np
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS as REST
from crowdmocap_addon.core.joints import SMPL_MIRROR
from inference_server.estimators.person_motion import PersonMotion
from inference_server.motion.facing import flipped_frames, mirror_pose, unflip
from inference_server.tracking.tracker import Track
from tests.inference_server.motion.test_shape_ground_contacts import camera_from_world

FPS = 30.0
SMPL_TO_WORLD = Rotation.from_euler("x", 90, degrees=True).as_matrix()  # SMPL y up -> world z up


def _walker(frames: int = 60, heading_deg: float = 70.0, speed: float = 1.3):
    """A person walking straight, facing where they go, seen by a camera 3 m up: camera-frame SMPL motion."""
    rotation, translation = camera_from_world()
    t = np.arange(frames)
    rng = np.random.default_rng(0)
    body_pose = np.tile(rng.normal(scale=0.15, size=(23, 3)), (frames, 1, 1))  # an asymmetric stance
    body_pose[:, [0, 1], 0] = 0.4 * np.sin(2 * np.pi * t / 30)[:, None] * [1, -1]  # legs swing in antiphase
    # SMPL faces +z; the world heading is measured from +x: turn +z (after SMPL -> world) onto it.
    facing = Rotation.from_euler("z", heading_deg - 90 + 180, degrees=True)
    orient = Rotation.from_matrix(rotation) * facing * Rotation.from_matrix(SMPL_TO_WORLD)
    direction = np.array([np.cos(np.radians(heading_deg)), np.sin(np.radians(heading_deg)), 0.0])
    path = np.array([-1.0, 8.0, 0.9]) + np.outer(t * speed / FPS, direction)
    transl = path @ rotation.T + translation - REST[0]
    up = rotation @ np.array([0.0, 0.0, 1.0])
    return np.tile(orient.as_rotvec(), (frames, 1)), body_pose, transl, up


def _joints(orient, pose, transl):
    return forward_kinematics(REST, orient, pose, transl).joints


def test_the_walker_faces_where_they_go_and_is_not_touched():
    orient, _, transl, up = _walker()
    forward = Rotation.from_rotvec(orient).as_matrix()[:, :, 2]
    assert (forward @ (transl[-1] - transl[0]) > 0).all()  # the helper is right: facing the walk
    assert not flipped_frames(orient, transl, np.ones(len(orient)), up, FPS).any()


def test_the_mirror_image_keeps_the_projection_swaps_sides_and_mirrors_back():
    orient, pose, transl, _ = _walker(10)
    joints = _joints(orient, pose, transl)
    m_orient, m_pose, m_transl = mirror_pose(orient, pose, transl, REST)
    mirrored = _joints(m_orient, m_pose, m_transl)
    np.testing.assert_allclose(mirrored[:, 0], joints[:, 0], atol=1e-9)  # the pelvis stays put
    ray = joints[:, :1] / np.linalg.norm(joints[:, :1], axis=2, keepdims=True)
    offsets = joints[:, SMPL_MIRROR] - joints[:, :1]
    reflected = joints[:, :1] + offsets - 2 * (offsets * ray).sum(axis=2, keepdims=True) * ray
    np.testing.assert_allclose(mirrored, reflected, atol=1e-9)  # joint i where mirror(i) was, reflected
    # The projection is kept exactly at the pelvis, and up to perspective elsewhere: 8 m from the camera,
    # limbs reflected up to 0.4 m nearer or further land within a tenth of the body's image height.
    pixels = lambda points: 1000.0 * points[..., :2] / points[..., 2:]  # noqa: E731
    height = np.ptp(pixels(joints)[..., 1], axis=1).min()
    assert np.abs(pixels(mirrored[:, SMPL_MIRROR]) - pixels(joints)).max() < 0.1 * height
    back = mirror_pose(m_orient, m_pose, m_transl, REST)
    np.testing.assert_allclose(_joints(*back), joints, atol=1e-9)


def _person(orient, pose, transl, confidence) -> PersonMotion:
    count = len(orient)
    keypoints = np.zeros((count, 17, 3))
    keypoints[:, :, 0] = np.arange(17)  # labels readable back from x
    keypoints[:, :, 2] = confidence[:, None]
    track = Track(
        id=7,
        frames=np.arange(count),
        keypoints=keypoints,
        boxes=np.zeros((count, 4)),
        observed=confidence > 0,
        scores=confidence,
        world_landmarks=None,
    )
    return PersonMotion(
        track=track,
        global_orient=orient,
        body_pose=pose,
        transl=transl,
        betas=np.zeros(10),
        rest_joints=np.array(REST),
        confidence=confidence,
    )


def with_flipped_stretch(orient, pose, transl, first: int = 20, end: int = 40):
    """The motion with frames [first, end) mirrored, as a front/back flip leaves them; and that mask."""
    flipped = np.zeros(len(orient), dtype=bool)
    flipped[first:end] = True
    wrong = [array.copy() for array in (orient, pose, transl)]
    for array, mirrored in zip(wrong, mirror_pose(orient[flipped], pose[flipped], transl[flipped], REST),
                               strict=True):  # fmt: skip
        array[flipped] = mirrored
    return wrong, flipped


def test_a_flipped_stretch_with_a_gap_inside_is_found_and_mirrored_back():
    orient, pose, transl, up = _walker()
    wrong, flipped = with_flipped_stretch(orient, pose, transl)
    confidence = np.ones(len(orient))
    confidence[27:31] = 0.0  # filled in by the tracker inside the flip
    found = flipped_frames(*wrong[:1], wrong[2], confidence, up, FPS)
    np.testing.assert_array_equal(found, flipped & (confidence > 0))
    fixed = unflip(_person(*wrong, confidence), found)
    joints, truth = _joints(fixed.global_orient, fixed.body_pose, fixed.transl), _joints(orient, pose, transl)
    error = np.linalg.norm(joints - truth, axis=2)
    assert error[confidence > 0].max() < 1e-6
    assert error[27:31].max() < 0.05  # re-interpolated from the corrected neighbours (measured 1.6 cm)
    assert (fixed.track.keypoints[found, 1, 0] == 2).all() and (fixed.track.keypoints[~found, 1, 0] == 1).all()


def test_without_a_walk_there_is_no_evidence_and_nothing_is_flipped():
    orient, pose, transl, up = _walker(speed=0.0)
    backwards = mirror_pose(orient, pose, transl, REST)
    assert not flipped_frames(backwards[0], backwards[2], np.ones(len(orient)), up, FPS).any()
