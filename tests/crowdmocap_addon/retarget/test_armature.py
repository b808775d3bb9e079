"""Blender's pose evaluation in NumPy: forward kinematics, its inverse per bone, hinge and copy bones, order."""

import numpy as np
import pytest

from crowdmocap_addon.core.geometry import axis_angle_to_matrix
from crowdmocap_addon.retarget.armature import (
    Skeleton,
    local_location,
    local_rotation,
    parent_frame,
    pose_matrices,
    topological_order,
)
from tests.crowdmocap_addon.retarget.rigs import rest_matrix

RNG = np.random.default_rng(3)


def _chain(inherit=(), copies=()) -> Skeleton:
    """root -> a -> b, plus c (child of root) that may copy b."""
    rest = np.stack([
        rest_matrix(np.zeros(3), np.array([0.0, 0.0, 1.0]), 0.2),
        rest_matrix(np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0]), -0.5),
        rest_matrix(np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, 2.0]), 1.0),
        rest_matrix(np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0]), 0.0),
    ])  # fmt: skip
    matrix = np.eye(4)
    matrix[:3, 3] = [2.0, 0.0, 0.0]
    return Skeleton(names=("root", "a", "b", "c"), parents=(-1, 0, 1, 0), rest=rest, object_matrix=matrix,
                    inherit_rotation=inherit, copies=copies)  # fmt: skip


def test_fk_of_rest_channels_is_the_rest_pose():
    skeleton = _chain()
    pose = pose_matrices(skeleton, np.broadcast_to(np.eye(3), (2, 4, 3, 3)))
    np.testing.assert_allclose(pose, np.broadcast_to(skeleton.rest, pose.shape), atol=1e-12)


def test_fk_is_blenders_formula_and_local_solves_invert_it():
    skeleton = _chain()
    rotations = axis_angle_to_matrix(RNG.normal(size=(5, 4, 3)))
    locations = RNG.normal(size=(5, 4, 3))
    pose = pose_matrices(skeleton, rotations, locations)
    for bone in range(4):
        parent = skeleton.parents[bone]
        base = skeleton.rest[bone] if parent < 0 else pose[:, parent] @ skeleton.relative_rest(bone)
        basis = np.zeros((5, 4, 4))
        basis[:, :3, :3], basis[:, :3, 3], basis[:, 3, 3] = rotations[:, bone], locations[:, bone], 1.0
        np.testing.assert_allclose(pose[:, bone], base @ basis, atol=1e-12)
        frame = parent_frame(skeleton, bone, pose)
        np.testing.assert_allclose(local_rotation(frame, pose[:, bone, :3, :3]), rotations[:, bone], atol=1e-12)
        np.testing.assert_allclose(local_location(frame, pose[:, bone, :3, 3]), locations[:, bone], atol=1e-12)


def test_a_bone_without_inherited_rotation_keeps_its_rest_orientation_but_follows_the_parents_position():
    skeleton = _chain(inherit=(True, True, False, True))
    rotations = np.broadcast_to(np.eye(3), (1, 4, 3, 3)).copy()
    rotations[0, 1] = axis_angle_to_matrix(np.array([0.0, 0.0, 0.7]))
    pose = pose_matrices(skeleton, rotations)
    np.testing.assert_allclose(pose[0, 2, :3, :3], skeleton.rest[2, :3, :3], atol=1e-12)
    follows = pose[0, 1] @ skeleton.relative_rest(2)
    np.testing.assert_allclose(pose[0, 2, :3, 3], follows[:3, 3], atol=1e-12)


def test_a_copy_transforms_bone_takes_the_pose_of_the_bone_it_copies():
    names = ("root", "a", "b", "c")
    copies = [-1, -1, -1, 2]
    order = topological_order((-1, 0, 1, 0), copies)
    assert order.index(2) < order.index(3)
    skeleton = _chain(copies=(-1, -1, -1, 2))
    rotations = axis_angle_to_matrix(RNG.normal(size=(3, 4, 3)))
    pose = pose_matrices(skeleton, rotations)
    np.testing.assert_allclose(pose[:, 3], pose[:, 2])
    assert names[skeleton.copied_from(3)] == "b"


def test_topological_order_puts_parents_first_and_rejects_cycles():
    parents = [2, -1, 1, 0]
    order = topological_order(parents)
    assert all(order.index(parent) < order.index(bone) for bone, parent in enumerate(parents) if parent >= 0)
    with pytest.raises(ValueError, match="cycle"):
        topological_order([1, 0])


def test_skeleton_rejects_children_before_parents():
    with pytest.raises(ValueError, match="parents must come before"):
        Skeleton(names=("a", "b"), parents=(1, -1), rest=np.tile(np.eye(4), (2, 1, 1)), object_matrix=np.eye(4))
