"""Bones stand straight up from their rest joints (identity rest rotation), with display lengths."""

import numpy as np

from crowdmocap_addon.core.joints import PARENTS
from crowdmocap_addon.scene.rig import MIN_BONE_LENGTH, bone_lengths, bone_tails
from tests.helpers.synthetic_smpl import REST_JOINTS


def test_tails_point_along_plus_y_from_every_head():
    tails = bone_tails(REST_JOINTS)
    np.testing.assert_array_equal(tails[:, [0, 2]], REST_JOINTS[:, [0, 2]])
    np.testing.assert_allclose(tails[:, 1] - REST_JOINTS[:, 1], bone_lengths(REST_JOINTS))


def test_lengths_reach_the_first_child_and_end_joints_take_half_their_parent():
    lengths = bone_lengths(REST_JOINTS)
    assert lengths[4] == np.linalg.norm(REST_JOINTS[7] - REST_JOINTS[4])  # left knee -> left ankle
    for end in (10, 11, 15, 22, 23):
        assert end not in PARENTS
        assert lengths[end] == max(0.5 * lengths[PARENTS[end]], MIN_BONE_LENGTH)


def test_coincident_joints_still_get_a_bone_blender_keeps():
    assert bone_lengths(np.zeros((24, 3))).min() == MIN_BONE_LENGTH
