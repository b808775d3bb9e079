"""Forward kinematics of the SMPL tree against positions worked out by hand."""

import numpy as np

from crowdmocap_addon.core.body.skeleton import change_frame, forward_kinematics
from crowdmocap_addon.core.geometry import axis_angle_to_matrix
from crowdmocap_addon.core.joints import JOINT_NAMES, PARENTS

J = {name: i for i, name in enumerate(JOINT_NAMES)}
# A hand-made skeleton with round numbers (the stand-in's before it was baked from a mesh), so the expected
# positions below can be worked out by hand.
REST_JOINTS = np.array([
    [0.000, 0.930, 0.000], [0.060, 0.840, 0.000], [-0.060, 0.840, 0.000], [0.000, 1.040, -0.010],
    [0.100, 0.470, 0.005], [-0.100, 0.470, 0.005], [0.000, 1.170, 0.010], [0.090, 0.080, -0.030],
    [-0.090, 0.080, -0.030], [0.000, 1.225, 0.015], [0.110, 0.020, 0.090], [-0.110, 0.020, 0.090],
    [0.000, 1.440, -0.020], [0.075, 1.350, -0.010], [-0.075, 1.350, -0.010], [0.000, 1.530, 0.030],
    [0.170, 1.380, -0.020], [-0.170, 1.380, -0.020], [0.430, 1.370, -0.040], [-0.430, 1.370, -0.040],
    [0.680, 1.380, -0.040], [-0.680, 1.380, -0.040], [0.760, 1.375, -0.050], [-0.760, 1.375, -0.050],
])  # fmt: skip


def _pose(frames=1):
    return np.zeros((frames, 3)), np.zeros((frames, 23, 3)), np.zeros((frames, 3))


def test_tree_is_smpls_and_parents_precede_children():
    assert len(JOINT_NAMES) == len(PARENTS) == 24
    assert PARENTS[J["left_wrist"]] == J["left_elbow"]
    assert PARENTS[J["head"]] == J["neck"]
    assert all(parent < child for child, parent in enumerate(PARENTS) if parent >= 0)


def test_zero_pose_gives_rest_joints_plus_translation():
    orient, body, transl = _pose()
    transl[0] = [0.5, -0.2, 4.0]
    posed = forward_kinematics(REST_JOINTS, orient, body, transl)
    np.testing.assert_allclose(posed.joints[0], REST_JOINTS + np.array([0.5, -0.2, 4.0]))
    np.testing.assert_allclose(posed.rotations[0], np.broadcast_to(np.eye(3), (24, 3, 3)))


def test_left_elbow_quarter_turn_about_z_swings_wrist_and_hand_upward():
    orient, body, transl = _pose()
    body[0, J["left_elbow"] - 1] = [0.0, 0.0, np.pi / 2]  # body_pose skips the pelvis
    joints = forward_kinematics(REST_JOINTS, orient, body, transl).joints[0]
    # By hand: elbow (0.43, 1.37, -0.04); wrist offset (0.25, 0.01, 0) rotated 90 deg about z = (-0.01, 0.25, 0).
    np.testing.assert_allclose(joints[J["left_wrist"]], [0.42, 1.62, -0.04], atol=1e-12)
    # hand offset from wrist (0.08, -0.005, -0.01) -> (0.005, 0.08, -0.01)
    np.testing.assert_allclose(joints[J["left_hand"]], [0.425, 1.70, -0.05], atol=1e-12)
    np.testing.assert_allclose(joints[J["left_elbow"]], REST_JOINTS[J["left_elbow"]], atol=1e-12)
    np.testing.assert_allclose(joints[J["right_wrist"]], REST_JOINTS[J["right_wrist"]], atol=1e-12)


def test_global_orient_rotates_about_the_rest_pelvis_then_translates():
    orient, body, transl = _pose()
    orient[0] = [np.pi, 0.0, 0.0]  # upside down in SMPL's frame = upright in a y-down camera
    transl[0] = [0.0, 0.0, 5.0]
    joints = forward_kinematics(REST_JOINTS, orient, body, transl).joints[0]
    # head - pelvis = (0, 0.6, 0.03) -> (0, -0.6, -0.03); plus pelvis (0, 0.93, 0) plus transl
    np.testing.assert_allclose(joints[J["head"]], [0.0, 0.33, 4.97], atol=1e-12)
    np.testing.assert_allclose(joints[J["pelvis"]], [0.0, 0.93, 5.0], atol=1e-12)


def test_chained_rotations_compose_down_the_arm():
    orient, body, transl = _pose()
    body[0, J["left_shoulder"] - 1] = [0.0, 0.0, np.pi / 2]
    body[0, J["left_elbow"] - 1] = [0.0, 0.0, -np.pi / 2]
    joints = forward_kinematics(REST_JOINTS, orient, body, transl).joints[0]
    shoulder = REST_JOINTS[J["left_shoulder"]]
    # upper arm (0.26, -0.01, -0.02) turned +90 about z -> (0.01, 0.26, -0.02); forearm turned back to rest.
    elbow = shoulder + np.array([0.01, 0.26, -0.02])
    np.testing.assert_allclose(joints[J["left_elbow"]], elbow, atol=1e-12)
    np.testing.assert_allclose(joints[J["left_wrist"]], elbow + np.array([0.25, 0.01, 0.0]), atol=1e-12)


def test_change_frame_moves_the_posed_body_rigidly():
    rng = np.random.default_rng(4)
    orient = rng.normal(size=(6, 3))
    body = rng.normal(scale=0.3, size=(6, 23, 3))
    transl = rng.normal(size=(6, 3))
    rot = axis_angle_to_matrix(np.array([0.4, -1.1, 0.7]))
    offset = np.array([1.0, 2.0, -3.0])
    before = forward_kinematics(REST_JOINTS, orient, body, transl).joints
    new_orient, new_transl = change_frame(REST_JOINTS, orient, transl, rot, offset)
    after = forward_kinematics(REST_JOINTS, new_orient, body, new_transl).joints
    np.testing.assert_allclose(after, before @ rot.T + offset, atol=1e-10)
