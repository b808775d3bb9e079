"""Camera motion from real pixels with exact ground truth: a virtual camera turning and zooming over the
shared street footage (each output frame a known homography of a real frame, people walking in it)."""

from __future__ import annotations

from itertools import islice, pairwise

import av
import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from inference_server.camera_motion.features import frame_step
from inference_server.camera_motion.path import chain
from inference_server.camera_motion.rotation import intrinsics, rotation_homography, rotation_step
from tests.conftest import REPO

CLIP = REPO / "tests" / "data" / "vtest_25s_to_50s.avi"
SOURCE_FOCAL = 960.0  # the clip's default focal (its diagonal): only the virtual camera's is measured
OUT = (512, 384)
FRAMES = 30


def _frames(count: int) -> list[np.ndarray]:
    with av.open(str(CLIP)) as video:
        return [frame.to_ndarray(format="rgb24") for frame in islice(video.decode(video=0), count)]


def _virtual(frames, rotations, focals):
    """Each real frame seen by the virtual camera: x_out = K_t R_t K_src^-1 x_src."""
    height, width = frames[0].shape[:2]
    source = np.linalg.inv(intrinsics(SOURCE_FOCAL, (width / 2, height / 2)))
    centre = (OUT[0] / 2, OUT[1] / 2)
    return [cv2.warpPerspective(f, intrinsics(fo, centre) @ r @ source, OUT, flags=cv2.INTER_LINEAR)
            for f, r, fo in zip(frames, rotations, focals, strict=True)]  # fmt: skip


def _virtual_pan() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Pan 6 deg, tilt -3 deg, roll 4 deg (accelerating) and zoom 700 -> 850 px over the clip's first frames:
    the true rotations, the true focals, and the frames the virtual camera sees."""
    t = np.linspace(0.0, 1.0, FRAMES)
    truth = Rotation.from_euler("yxz", np.stack([6.0 * t, -3.0 * t, 4.0 * t**2], axis=1), degrees=True).as_matrix()
    focals = 700.0 + 150.0 * t
    return truth, focals, _virtual(_frames(FRAMES), truth, focals)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(a @ b.T) - 1) / 2, -1, 1))))


def test_an_exact_homography_gives_back_its_rotation_and_focal():
    rotation = Rotation.from_euler("yxz", [4.0, -2.0, 3.0], degrees=True).as_matrix()
    step = rotation_step(-2.5 * rotation_homography(rotation, 800.0, 880.0, (256, 192)), 800.0, (256, 192))
    assert step.focal == pytest.approx(880.0, rel=1e-9) and _angle_deg(step.rotation, rotation) < 1e-6
    assert step.residual < 1e-9


@pytest.mark.slow
def test_pan_tilt_roll_and_zoom_over_real_footage_are_recovered():
    truth, focals, views = _virtual_pan()
    steps = [frame_step(a, b) for a, b in pairwise(views)]
    path = chain(steps, focals[0], (OUT[0] / 2, OUT[1] / 2))
    assert path.reliable.all()
    rotation_error = [_angle_deg(path.rotations[i], truth[i] @ truth[0].T) for i in range(FRAMES)]
    focal_error = np.abs(path.focals / focals - 1)
    print(f"worst rotation error {max(rotation_error):.3f} deg, focal {100 * focal_error.max():.2f} %")
    assert max(rotation_error) < 0.3 and focal_error.max() < 0.005  # measured: 0.17 deg, 0.02 % over 30 frames


@pytest.mark.slow
def test_a_still_camera_stays_still_while_people_walk():
    frames = _frames(FRAMES)
    rotations, focals = np.tile(np.eye(3), (FRAMES, 1, 1)), np.full(FRAMES, 800.0)
    views = _virtual(frames, rotations, focals)
    path = chain([frame_step(a, b) for a, b in pairwise(views)], 800.0, (256, 192))
    drift = max(_angle_deg(r, np.eye(3)) for r in path.rotations)
    print(f"still camera: worst drift {drift:.4f} deg, focal {np.abs(path.focals / 800 - 1).max() * 100:.3f} %")
    assert drift < 1e-9 and np.abs(path.focals / 800.0 - 1).max() < 1e-12  # no invented motion at all


def test_a_step_without_enough_background_is_flagged_and_bridged():
    from inference_server.camera_motion.features import FrameStep

    centre = (256.0, 192.0)
    truth = Rotation.from_euler("y", np.linspace(0.0, 4.0, 5)[:, None], degrees=True).as_matrix()
    steps = [FrameStep(homography=rotation_homography(truth[i + 1] @ truth[i].T, 800.0, 800.0, centre), inliers=200,
                       tracked=250) for i in range(4)]  # fmt: skip
    steps[1] = FrameStep(homography=None, inliers=3, tracked=10)  # a whip pan: the background smeared
    path = chain(steps, 800.0, centre)
    assert path.reliable.tolist() == [True, True, False, True, True]
    # frame 2 is bridged between its neighbours; the missed step is not recovered afterwards (a chain has no
    # images to measure across the gap): frames 3 and 4 are off by that one step, 1 degree
    assert _angle_deg(path.rotations[2], path.rotations[1]) == pytest.approx(
        _angle_deg(path.rotations[3], path.rotations[2])
    )
    assert _angle_deg(path.rotations[4], truth[4] @ truth[0].T) == pytest.approx(1.0, abs=1e-6)


def test_people_boxes_are_left_out_of_the_background_with_a_margin():
    from inference_server.camera_motion.features import background_mask

    mask = background_mask((100, 200), [np.array([50.0, 20.0, 70.0, 60.0])])  # 20 x 40 px: 3 x 6 px margins
    assert mask[20:60, 50:70].max() == 0 and mask[14:66, 47:73].max() == 0
    assert mask[:, :46].min() == 255 and mask[:, 74:].min() == 255 and mask[67:, :].min() == 255


@pytest.mark.slow
def test_streamed_footage_is_measured_across_a_frame_that_cannot_be():
    from inference_server.camera_motion.tracker import track_camera

    truth, focals, views = _virtual_pan()
    views[12] = np.zeros_like(views[12])  # a dropped frame: nothing to track
    path = track_camera(views, [[] for _ in views], focals[0])
    assert np.flatnonzero(~path.reliable).tolist() == [12]
    errors = [_angle_deg(path.rotations[i], truth[i] @ truth[0].T) for i in range(FRAMES)]
    assert max(errors) < 0.3  # the frames after the gap lost nothing (chain would be a step off)
    assert errors[12] < 0.3 and abs(path.focals[12] / focals[12] - 1) < 0.005  # the gap bridged between its neighbours
