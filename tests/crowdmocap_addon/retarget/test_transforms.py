"""Rotation helpers: Euler orders both ways (gimbal lock included), unwrapping, axis-angle, swings."""

import numpy as np
import pytest

from crowdmocap_addon.core.geometry import (
    axis_angle_to_matrix,
    matrix_to_quaternion,
    quaternion_to_matrix,
    rotation_angle,
    smoothstep,
    swing_rotation,
)
from crowdmocap_addon.retarget.transforms import (
    EULER_ORDERS,
    axis_angle4_to_matrix,
    euler_to_matrix,
    matrix_to_axis_angle4,
    matrix_to_euler,
    rotation_part,
    unwrap_euler,
)

RNG = np.random.default_rng(0)
ROTATIONS = axis_angle_to_matrix(RNG.normal(size=(300, 3)))


def _about(axis: int, angle: float) -> np.ndarray:
    aa = np.zeros(3)
    aa[axis] = angle
    return axis_angle_to_matrix(aa)


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_euler_order_applies_the_first_axis_first(order):
    angles = np.array([0.3, -0.7, 1.1])
    expected = np.eye(3)
    for letter in order:
        axis = "XYZ".index(letter)
        expected = _about(axis, angles[axis]) @ expected
    np.testing.assert_allclose(euler_to_matrix(angles, order), expected, atol=1e-12)


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_matrix_to_euler_round_trips_including_gimbal_lock(order):
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler(ROTATIONS, order), order), ROTATIONS, atol=1e-10)
    locked = RNG.normal(size=(20, 3))
    locked[:, "XYZ".index(order[1])] = np.pi / 2 * np.sign(RNG.normal(size=20))
    matrices = euler_to_matrix(locked, order)
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler(matrices, order), order), matrices, atol=1e-10)


def test_unwrap_euler_removes_full_turn_jumps_without_changing_rotations():
    smooth = np.cumsum(RNG.normal(scale=0.3, size=(200, 3)), axis=0)  # wanders over several turns
    wrapped = (smooth + np.pi) % (2 * np.pi) - np.pi
    unwrapped = unwrap_euler(wrapped)
    assert np.abs(np.diff(unwrapped, axis=0)).max() < np.pi
    np.testing.assert_allclose(unwrapped - unwrapped[0], smooth - smooth[0], atol=1e-9)
    np.testing.assert_allclose(euler_to_matrix(unwrapped, "XYZ"), euler_to_matrix(wrapped, "XYZ"), atol=1e-9)


def test_quaternion_and_axis_angle_conversions_invert_each_other():
    np.testing.assert_allclose(quaternion_to_matrix(matrix_to_quaternion(ROTATIONS)), ROTATIONS, atol=1e-12)
    np.testing.assert_allclose(quaternion_to_matrix(3.0 * matrix_to_quaternion(ROTATIONS)), ROTATIONS, atol=1e-12)
    np.testing.assert_allclose(axis_angle4_to_matrix(matrix_to_axis_angle4(ROTATIONS)), ROTATIONS, atol=1e-10)
    np.testing.assert_allclose(matrix_to_axis_angle4(np.eye(3)), [0.0, 0.0, 0.0, 1.0])


def test_swing_rotation_is_the_smallest_turn_and_handles_opposite_directions():
    a, b = RNG.normal(size=(100, 3)), RNG.normal(size=(100, 3))
    swing = swing_rotation(a, b)
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(np.einsum("nij,nj->ni", swing, unit(a)), unit(b), atol=1e-12)
    # Smallest: the turn angle equals the angle between the directions, its axis is across both.
    angle = np.arccos(np.clip(np.sum(unit(a) * unit(b), axis=-1), -1, 1))
    np.testing.assert_allclose(rotation_angle(np.broadcast_to(np.eye(3), swing.shape), swing), angle, atol=1e-9)
    flipped = swing_rotation(a, -a)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", flipped, a), -a, atol=1e-12)


def test_rotation_part_removes_object_scale():
    scaled = np.eye(4)
    scaled[:3, :3] = ROTATIONS[0] * 0.01
    np.testing.assert_allclose(rotation_part(scaled), ROTATIONS[0], atol=1e-12)


def test_smoothstep_eases_in_and_out():
    x = np.linspace(-0.5, 1.5, 41)
    y = smoothstep(x)
    assert y[0] == 0.0 and y[-1] == 1.0 and np.all(np.diff(y) >= 0)
    assert smoothstep(np.array(0.5)) == pytest.approx(0.5)
    assert smoothstep(np.array(0.01)) < 0.01 * 0.5  # flat start
