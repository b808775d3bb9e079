"""Foot locking on a synthetic walk whose root drifts: feet stop sliding during contacts."""

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS as REST
from inference_server.motion.foot_lock import lock_feet

FPS = 30.0


def _sliding_stance(frames=60, seed=0):
    """Standing with knees slightly bent; the root drifts 8 cm/s sideways with 5 mm jitter, so the feet slide."""
    rng = np.random.default_rng(seed)
    orient = np.tile([np.pi, 0.0, 0.0], (frames, 1))
    body = np.zeros((frames, 23, 3))
    body[:, 0, 0] = body[:, 1, 0] = -0.25  # hips flexed
    body[:, 3, 0] = body[:, 4, 0] = 0.5  # knees bent
    t = np.arange(frames) / FPS
    transl = np.stack([0.08 * t, np.zeros(frames), np.full(frames, 6.0)], axis=1) + rng.normal(
        scale=0.005, size=(frames, 3)
    )
    contact = np.zeros((frames, 2))
    contact[5:50, 0] = 0.9  # left foot planted for 1.5 s
    contact[10:40, 1] = 0.9
    return orient, body, transl, contact


def test_feet_stay_put_during_contacts_and_the_rest_is_untouched():
    orient, body, transl, contact = _sliding_stance()
    locked = lock_feet(REST, orient, body, transl, contact, fps=FPS)
    assert locked.skate_before > 0.08  # cm/s scale: the drift
    assert locked.skate_after < 0.1 * locked.skate_before  # measured: see docs/motion.md
    joints = forward_kinematics(REST, orient, locked.body_pose, transl).joints
    original = forward_kinematics(REST, orient, body, transl).joints
    ankle = joints[5:50, 7]
    assert np.ptp(ankle, axis=0).max() < 0.01  # the planted left ankle moves less than 1 cm
    upper_body = [0, 3, 6, 9, 12, 15, 16, 17, 18, 19, 20, 21]
    np.testing.assert_allclose(joints[:, upper_body], original[:, upper_body], atol=1e-9)
    bone = np.linalg.norm(joints[:, 4] - joints[:, 1], axis=1)  # thigh length is unchanged
    np.testing.assert_allclose(bone, np.linalg.norm(REST[4] - REST[1]), atol=1e-9)
    np.testing.assert_allclose(locked.body_pose[55:], body[55:], atol=1e-9)  # away from contacts: untouched


def test_a_planted_foot_keeps_one_turn_so_its_toes_stay_still_too():
    orient, body, transl, contact = _sliding_stance()
    rng = np.random.default_rng(1)
    body[:, 6] = rng.normal(scale=0.08, size=(len(body), 3))  # the estimate's left ankle wobbles ~5 degrees a frame
    original = forward_kinematics(REST, orient, body, transl).joints
    locked = forward_kinematics(REST, orient, lock_feet(REST, orient, body, transl, contact, fps=FPS).body_pose,
                                transl).joints  # fmt: skip
    left_toes = 10
    assert np.ptp(original[5:50, left_toes], axis=0).max() > 0.03  # the wobble moved the toes by centimetres
    assert np.ptp(locked[5:50, left_toes], axis=0).max() < 0.01  # held: under a centimetre over 1.5 s
    step = np.linalg.norm(np.diff(locked[:, left_toes], axis=0), axis=1)
    assert step.max() < 2 * np.linalg.norm(np.diff(original[:, left_toes], axis=0), axis=1).max()  # no snap in blends
