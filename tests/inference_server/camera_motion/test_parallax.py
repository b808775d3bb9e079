"""A camera that moves its centre: the floor's homography gives each step's turn and translation in metres."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.result.schema import GroundPlane
from inference_server.camera_motion.parallax import FloorStep, plane_motion, with_translation
from inference_server.camera_motion.path import CameraPath
from inference_server.camera_motion.rotation import intrinsics

CENTRE = (384.0, 288.0)
FLOOR = GroundPlane(normal=tuple(np.array([0.0, -0.96, -0.28]) / np.linalg.norm([0.0, -0.96, -0.28])), offset=1.6)


def _floor_homography(rotations, centres, focals, s: int, t: int) -> np.ndarray:
    """The exact homography floor points make between frames s and t (X_t = R_t (X - c_t))."""
    normal = np.asarray(FLOOR.normal)
    m = -(rotations[s] @ normal) / (FLOOR.offset + normal @ centres[s])
    moved = rotations[t] @ rotations[s].T + np.outer(rotations[t] @ (centres[s] - centres[t]), m)
    return -2.0 * intrinsics(focals[t], CENTRE) @ moved @ np.linalg.inv(intrinsics(focals[s], CENTRE))


def _walk(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 1.0, count)
    rotations = Rotation.from_euler("yxz", np.stack([5 * t, 1.5 * np.sin(6 * t), 0.5 * t], 1), degrees=True).as_matrix()
    centres = np.stack([0.4 * t + 0.03 * np.sin(9 * t), 0.02 * np.sin(7 * t), 1.2 * t], axis=1)
    return rotations, centres, np.full(count, 900.0)


def test_the_floor_homography_of_a_step_gives_its_turn_translation_and_focal_exactly():
    rotations, centres, _ = _walk(2)
    focals = np.array([900.0, 960.0])
    homography = _floor_homography(rotations, centres, focals, 0, 1)
    step = rotations[1] @ rotations[0].T
    near = Rotation.from_euler("z", 1.0, degrees=True).as_matrix() @ step  # a degree off: picks the right one
    motion = plane_motion(homography, 900.0, CENTRE, normal=rotations[0] @ np.asarray(FLOOR.normal),
                          height=FLOOR.offset + np.asarray(FLOOR.normal) @ centres[0], near=near)  # fmt: skip
    assert motion is not None and motion.focal == pytest.approx(960.0, rel=1e-9)
    np.testing.assert_allclose(motion.rotation, step, atol=1e-9)
    np.testing.assert_allclose(motion.translation, rotations[1] @ (centres[0] - centres[1]), atol=1e-9)


def test_floor_steps_chain_into_every_frames_centre_and_a_turning_camera_gets_none():
    count = 13
    rotations, centres, focals = _walk(count)
    steps = [FloorStep(s, s + 4, _floor_homography(rotations, centres, focals, s, s + 4)) for s in range(0, 12, 4)]
    path = CameraPath(rotations=rotations, focals=focals, reliable=np.ones(count, bool))
    moved = with_translation(path, steps, FLOOR, CENTRE, row_seconds=0.04)
    assert moved.moved[[4, 8, 12]].all() and not moved.moved[[1, 2, 3]].any()
    at_steps = [0, 4, 8, 12]
    np.testing.assert_allclose(moved.centres[at_steps], centres[at_steps], atol=1e-9)
    between = np.abs(moved.centres - centres).max()  # linear between the steps' ends: the sway is not seen
    assert between < 0.03  # measured 2.8 cm: part of a 3 cm sway between steps 4 frames apart
    np.testing.assert_allclose(moved.rotations, rotations, atol=1e-9)
    # the same steps from a camera that only turns: no translation is invented
    still = np.zeros((count, 3))
    turning = [FloorStep(s, s + 4, _floor_homography(rotations, still, focals, s, s + 4)) for s in range(0, 12, 4)]
    unmoved = with_translation(path, turning, FLOOR, CENTRE, row_seconds=0.04)
    assert not unmoved.moved.any() and np.abs(unmoved.centres).max() == 0.0


def test_a_floor_step_that_disagrees_with_the_turn_is_not_trusted():
    count = 5
    rotations, centres, focals = _walk(count)
    wrong = Rotation.from_euler("y", 5.0, degrees=True).as_matrix() @ rotations[4]
    bad = _floor_homography(np.array([*rotations[:4], wrong]), centres, focals, 0, 4)
    path = CameraPath(rotations=rotations, focals=focals, reliable=np.ones(count, bool))
    moved = with_translation(path, [FloorStep(0, 4, bad)], FLOOR, CENTRE, row_seconds=0.04)
    assert not moved.moved.any() and np.abs(moved.centres).max() == 0.0


def test_a_floor_step_that_could_not_be_measured_moves_at_its_neighbours_speed():
    count = 17
    rotations, _, focals = _walk(count)
    centres = np.linspace(0.0, 1.0, count)[:, None] * [0.4, 0.02, 1.2]  # a steady walk
    steps = [FloorStep(s, s + 4, _floor_homography(rotations, centres, focals, s, s + 4)) for s in range(0, 16, 4)]
    steps[1] = FloorStep(4, 8, None)  # a blurred frame: no floor homography from row 4 to row 8
    path = CameraPath(rotations=rotations, focals=focals, reliable=np.ones(count, bool))
    moved = with_translation(path, steps, FLOOR, CENTRE, row_seconds=0.04)
    error = np.linalg.norm(moved.centres - centres, axis=1)
    assert not moved.moved[8] and moved.moved[[4, 12, 16]].all()
    assert error.max() < 1e-3  # held still instead, every row after 8 would be the step's 32 cm off
