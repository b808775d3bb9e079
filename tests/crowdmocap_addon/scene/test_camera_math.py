"""Blender camera parameters reproduce the result's pinhole projection (Blender's view-plane formula)."""

import numpy as np
import pytest

from crowdmocap_addon.core.result.schema import PinholeCamera, VideoInfo
from crowdmocap_addon.scene.camera_math import MIN_CLIP_END_M, blender_camera_params, deepest_pelvis
from tests.helpers.captures import make_capture


def _video(width, height):
    return VideoInfo(path="v.mp4", width=width, height=height, fps=25.0, fps_rational=(25, 1), frame_count=10)


def _blender_pixels(params, points):
    """Project like Blender: the view plane spans sensor/lens on the fitted side, shifted by shift · side."""
    width, height = params.resolution_x, params.resolution_y
    if params.sensor_fit == "HORIZONTAL":
        side, sensor = width, params.sensor_width_mm
    else:
        side, sensor = height, params.sensor_height_mm
    pixels_per_unit = side * params.lens_mm / sensor  # image-plane units at distance 1 -> pixels
    # Blender camera coordinates: x right, y up, looking down -z; OpenCV points have y down, z forward.
    x, y, depth = points[:, 0], -points[:, 1], points[:, 2]
    u = pixels_per_unit * x / depth + width / 2 - params.shift_x * side
    v_up = pixels_per_unit * y / depth + height / 2 - params.shift_y * side
    return np.stack([u, height - v_up], axis=1)


@pytest.mark.parametrize(
    ("width", "height", "principal_point"),
    [(768, 576, (384.0, 288.0)), (1920, 1080, (900.0, 600.0)), (720, 1280, (300.0, 700.0))],
)
def test_projection_matches_the_pinhole(width, height, principal_point):
    camera = PinholeCamera(focal_px=1100.0, principal_point=principal_point)
    params = blender_camera_params(camera, _video(width, height))
    assert params.sensor_fit == ("HORIZONTAL" if width >= height else "VERTICAL")
    points = np.random.default_rng(0).uniform([-3, -2, 4], [3, 2, 15], size=(30, 3))
    pinhole = np.stack([1100.0 * points[:, 0] / points[:, 2] + principal_point[0],
                        1100.0 * points[:, 1] / points[:, 2] + principal_point[1]], axis=1)  # fmt: skip
    np.testing.assert_allclose(_blender_pixels(params, points), pinhole, atol=1e-9)
    assert (params.resolution_x, params.resolution_y) == (width, height)
    assert params.sensor_width_mm / params.sensor_height_mm == pytest.approx(width / height)


def test_a_centred_camera_has_no_shift_and_the_expected_lens():
    params = blender_camera_params(PinholeCamera(960.0, (384.0, 288.0)), _video(768, 576))
    assert params.lens_mm == pytest.approx(960.0 * 36.0 / 768.0)
    assert params.shift_x == 0.0
    assert params.shift_y == 0.0


def test_clip_end_reaches_the_farthest_person():
    capture = make_capture(people=3)
    depth = deepest_pelvis(capture)
    assert depth == pytest.approx(
        max(np.linalg.norm(t.transl + t.rest_joints[0], axis=1).max() for t in capture.people)
    )
    assert blender_camera_params(capture.camera, capture.video, 80.0).clip_end == 160.0
    assert blender_camera_params(capture.camera, capture.video, depth).clip_end == MIN_CLIP_END_M
