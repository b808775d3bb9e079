"""Camera frame -> Z-up world: rotations are proper, the floor lands on Z = 0, the camera keeps its view."""

import numpy as np
import pytest

from crowdmocap_addon.core.result.schema import GroundPlane
from crowdmocap_addon.core.world import CAMERA_TO_Z_UP, ground_alignment, world_transform


def _is_rotation(matrix):
    return np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(matrix), 1.0)


def _random_ground(rng):
    tilt = rng.uniform(-0.6, 0.6, size=2)
    normal = np.array([tilt[0], -1.0, tilt[1]])
    return GroundPlane(normal=tuple(normal / np.linalg.norm(normal)), offset=float(rng.uniform(0.5, 3.0)))


def test_the_plain_axis_swap_is_a_rotation_with_the_documented_axes():
    assert _is_rotation(CAMERA_TO_Z_UP)
    np.testing.assert_array_equal(CAMERA_TO_Z_UP @ [0, 0, 1], [0, 1, 0])  # forward -> +Y
    np.testing.assert_array_equal(CAMERA_TO_Z_UP @ [0, 1, 0], [0, 0, -1])  # image down -> -Z


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
    np.testing.assert_allclose(transform.rotation, CAMERA_TO_Z_UP, atol=1e-12)
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
        np.testing.assert_array_equal(plain.rotation, CAMERA_TO_Z_UP)
        np.testing.assert_array_equal(plain.offset, np.zeros(3))


def rolled_and_tilted_ground(roll_deg: float = 5.0, tilt_deg: float = 20.0, height: float = 1.6) -> GroundPlane:
    """The floor seen by a camera ``height`` above it, pitched down ``tilt_deg`` and rolled ``roll_deg``."""
    roll, tilt = np.radians(roll_deg), np.radians(tilt_deg)
    pitch = np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    rolled = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    up_in_camera = rolled @ pitch @ np.array([0.0, -1.0, 0.0])  # camera-frame floor normal
    return GroundPlane(normal=tuple(up_in_camera / np.linalg.norm(up_in_camera)), offset=height)


def test_a_rolled_tilted_camera_keeps_zero_yaw_and_its_tilt():
    transform = ground_alignment(rolled_and_tilted_ground())
    forward = transform.rotation @ [0, 0, 1]
    assert abs(forward[0]) < 1e-12 and forward[1] > 0  # looks straight along +Y: no yaw invented by the roll
    np.testing.assert_allclose(np.degrees(np.arcsin(-forward[2])), 20.0, atol=0.5)  # pitched down as filmed
