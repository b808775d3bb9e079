"""Blender's axes inside the shared world: the camera object and the armature object."""

import numpy as np

from crowdmocap_addon.core.world import ground_alignment
from crowdmocap_addon.scene.axes import SMPL_TO_BLENDER, armature_frame, camera_matrix_world
from tests.crowdmocap_addon.core.test_world import _is_rotation, _random_ground


def test_smpl_to_blender_is_a_rotation_with_the_documented_axes():
    assert _is_rotation(SMPL_TO_BLENDER)
    np.testing.assert_array_equal(SMPL_TO_BLENDER @ [0, 1, 0], [0, 0, 1])  # SMPL up -> +Z
    np.testing.assert_array_equal(SMPL_TO_BLENDER @ [0, 0, 1], [0, -1, 0])  # SMPL front -> -Y


def test_the_blender_camera_looks_where_the_opencv_camera_looked():
    transform = ground_alignment(_random_ground(np.random.default_rng(7)))
    matrix = camera_matrix_world(transform)
    assert _is_rotation(matrix[:3, :3])
    # A Blender camera looks down its local -Z, with local +Y up in the image and +X right.
    np.testing.assert_allclose(matrix[:3, :3] @ [0, 0, -1], transform.rotation @ [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(matrix[:3, :3] @ [0, 1, 0], transform.rotation @ [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(matrix[:3, :3] @ [1, 0, 0], transform.rotation @ [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(matrix[:3, 3], transform.offset)


def test_armature_space_seen_through_the_armature_object_is_the_world():
    rng = np.random.default_rng(3)
    transform = ground_alignment(_random_ground(rng))
    points = rng.normal(size=(10, 3))
    in_armature = armature_frame(transform).apply(points)
    np.testing.assert_allclose(in_armature @ SMPL_TO_BLENDER.T, transform.apply(points), atol=1e-12)
