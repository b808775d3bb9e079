"""Camera frame -> Blender world: rotations are proper, the floor lands on Z = 0, the camera keeps its view."""

import numpy as np
import pytest

from crowdmocap_addon.result.schema import GroundPlane
from crowdmocap_addon.scene.axes import (
    OPENCV_TO_BLENDER_WORLD,
    SMPL_TO_BLENDER,
    armature_frame,
    camera_matrix_world,
    ground_alignment,
    world_transform,
)


def _is_rotation(matrix):
    return np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(matrix), 1.0)


def _random_ground(rng):
    tilt = rng.uniform(-0.6, 0.6, size=2)
    normal = np.array([tilt[0], -1.0, tilt[1]])
    return GroundPlane(normal=tuple(normal / np.linalg.norm(normal)), offset=float(rng.uniform(0.5, 3.0)))


def test_fixed_matrices_are_rotations_with_the_documented_axes():
    assert _is_rotation(OPENCV_TO_BLENDER_WORLD)
    assert _is_rotation(SMPL_TO_BLENDER)
    np.testing.assert_array_equal(OPENCV_TO_BLENDER_WORLD @ [0, 0, 1], [0, 1, 0])  # forward -> +Y
    np.testing.assert_array_equal(OPENCV_TO_BLENDER_WORLD @ [0, 1, 0], [0, 0, -1])  # image down -> -Z
    np.testing.assert_array_equal(SMPL_TO_BLENDER @ [0, 1, 0], [0, 0, 1])  # SMPL up -> +Z
    np.testing.assert_array_equal(SMPL_TO_BLENDER @ [0, 0, 1], [0, -1, 0])  # SMPL front -> -Y


@pytest.mark.parametrize("seed", range(5))
def test_ground_alignment_puts_the_floor_at_z0_with_its_normal_up(seed):
    rng = np.random.default_rng(seed)
    ground = _random_ground(rng)
    transform = ground_alignment(ground)
    normal = np.asarray(ground.normal)
    assert _is_rotation(transform.rotation)
    np.testing.assert_allclose(transform.rotation @ normal, [0, 0, 1], atol=1e-12)
    # Points of the floor: any in-plane offset from the foot of the camera's perpendicular.
    in_plane = rng.normal(size=(20, 3))
    in_plane -= np.outer(in_plane @ normal, normal)
    floor = -ground.offset * normal + in_plane
    np.testing.assert_allclose(transform.apply(floor)[:, 2], 0.0, atol=1e-12)
    np.testing.assert_allclose(transform.apply(np.zeros(3)), [0, 0, ground.offset], atol=1e-12)
    forward = transform.rotation @ [0, 0, 1]
    assert abs(forward[0]) < 1e-12
    assert forward[1] > 0


def test_ground_alignment_of_a_level_camera_is_the_plain_axis_swap_raised():
    transform = ground_alignment(GroundPlane(normal=(0.0, -1.0, 0.0), offset=1.5))
    np.testing.assert_allclose(transform.rotation, OPENCV_TO_BLENDER_WORLD, atol=1e-12)
    np.testing.assert_allclose(transform.offset, [0, 0, 1.5])


def test_a_camera_looking_straight_down_takes_image_up_as_forward():
    transform = ground_alignment(GroundPlane(normal=(0.0, 0.0, -1.0), offset=10.0))
    assert _is_rotation(transform.rotation)
    np.testing.assert_allclose(transform.rotation @ [0, -1, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(transform.rotation @ [0, 0, 1], [0, 0, -1], atol=1e-12)


def test_world_transform_aligns_only_when_asked_and_possible():
    ground = GroundPlane(normal=(0.0, -0.995, 0.0998749), offset=1.6)
    np.testing.assert_allclose(world_transform(ground, True).rotation, ground_alignment(ground).rotation)
    for plain in (world_transform(ground, False), world_transform(None, True)):
        np.testing.assert_array_equal(plain.rotation, OPENCV_TO_BLENDER_WORLD)
        np.testing.assert_array_equal(plain.offset, np.zeros(3))


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
