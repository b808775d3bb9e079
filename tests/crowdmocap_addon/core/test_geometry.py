import numpy as np
import pytest

from crowdmocap_addon.core.geometry import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    quaternion_to_axis_angle,
    swing_rotation,
)


def test_quarter_turn_about_z_maps_x_to_y():
    rot = axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(rot @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)


def test_half_turn_about_x_flips_y_and_z():
    rot = axis_angle_to_matrix(np.array([np.pi, 0.0, 0.0]))
    np.testing.assert_allclose(rot, np.diag([1.0, -1.0, -1.0]), atol=1e-12)


def test_tiny_and_zero_rotations_are_identity_to_first_order():
    tiny = np.array([[0.0, 0.0, 0.0], [1e-10, -2e-10, 3e-10]])
    rot = axis_angle_to_matrix(tiny)
    np.testing.assert_allclose(rot[0], np.eye(3))
    np.testing.assert_allclose(rot[1] @ [1.0, 0.0, 0.0], [1.0, 3e-10, 2e-10], atol=1e-15)
    np.testing.assert_allclose(matrix_to_axis_angle(rot), tiny, atol=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_matrix_axis_angle_round_trip_and_orthonormality(seed):
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=(500, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    # Angles across (0, pi): includes near-pi ones, where Shepperd's method matters.
    aa = axis * rng.uniform(0.0, np.pi - 1e-6, size=(500, 1))
    aa[:5] *= (np.pi - 1e-7) / np.linalg.norm(aa[:5], axis=1, keepdims=True)
    rot = axis_angle_to_matrix(aa)
    np.testing.assert_allclose(rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-12)
    np.testing.assert_allclose(matrix_to_axis_angle(rot), aa, atol=1e-6)


def test_axis_angle_longer_than_pi_comes_back_as_the_short_way_round():
    aa = np.array([0.0, 1.5 * np.pi, 0.0])
    np.testing.assert_allclose(matrix_to_axis_angle(axis_angle_to_matrix(aa)), [0.0, -0.5 * np.pi, 0.0], atol=1e-12)


def test_quaternion_sign_does_not_change_the_rotation():
    quat = matrix_to_quaternion(axis_angle_to_matrix(np.array([0.3, -0.2, 0.9])))
    assert quat[0] >= 0
    np.testing.assert_allclose(quaternion_to_axis_angle(quat), quaternion_to_axis_angle(-quat), atol=1e-12)


def test_swing_turns_one_direction_onto_another_minimally():
    rng = np.random.default_rng(5)
    for a, b in rng.normal(size=(20, 2, 3)):
        rot = swing_rotation(a, b)
        np.testing.assert_allclose(rot @ (a / np.linalg.norm(a)), b / np.linalg.norm(b), atol=1e-12)
        axis = matrix_to_axis_angle(rot)
        assert abs(axis @ a) < 1e-9 and abs(axis @ b) < 1e-9  # rotates about a x b only: no twist
    np.testing.assert_allclose(swing_rotation([0, 0, 1.0], [0, 0, 1.0]), np.eye(3))
    flipped = swing_rotation([0, 0, 1.0], [0, 0, -1.0])
    np.testing.assert_allclose(flipped @ [0, 0, 1.0], [0, 0, -1.0], atol=1e-12)
