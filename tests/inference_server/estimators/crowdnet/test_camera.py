"""The crop camera -> one full-image camera conversion (derivation in docs/cameras.md)."""

import math

import numpy as np
import pytest
import torch

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.result.schema import PinholeCamera
from inference_server.camera import CameraSpecError, full_image_camera
from inference_server.estimators.crowdnet.camera import (
    CROP_DEPTH_SCALE,
    box_focal,
    crop_to_full_translation,
    crop_translation,
)
from tests.helpers.synthetic_smpl import REST_JOINTS

WIDTH, HEIGHT = 768, 576
CAMERA = full_image_camera(WIDTH, HEIGHT)
REST = REST_JOINTS - REST_JOINTS[0] + np.array([0.0, -0.22, 0.03])  # pelvis off the origin, like SMPL's
BOXES = [(384, 288, 120), (700, 500, 120), (90, 80, 200), (500, 150, 300)]  # centre x, centre y, side


def _scene(cx, cy, side, orient, body, rest=REST, gamma=0.5, txy=(0.03, -0.02)):
    cam_param = torch.tensor([[txy[0], txy[1], math.log(gamma / (1 - gamma))]], dtype=torch.float64)
    crop_t = crop_translation(cam_param).numpy()
    bbox = torch.tensor([[cx - side / 2, cy - side / 2, side, side]], dtype=torch.float64)
    full_t = crop_to_full_translation(torch.tensor(crop_t), torch.tensor(rest[:1]), bbox, CAMERA).numpy()
    crop_joints = forward_kinematics(rest, orient, body, crop_t).joints[0]
    full_joints = forward_kinematics(rest, orient, body, full_t).joints[0]
    # crop camera (f 5000, centre 128) projected, then mapped back to the image through the crop box
    crop_px = PinholeCamera(focal_px=5000.0, principal_point=(128.0, 128.0)).project(crop_joints)
    mapped_back = (crop_px - 128) * side / 256 + np.array([cx, cy])
    full_px = CAMERA.project(full_joints)
    return crop_joints, full_joints, mapped_back, full_px, full_t


def _upright_random_pose(seed):
    """(1, 3) global orientation near upright in a y-down camera, (1, 23, 3) random body pose."""
    rng = np.random.default_rng(seed)
    return np.array([[np.pi, 0, 0]]) + rng.normal(scale=0.3, size=(1, 3)), rng.normal(scale=0.3, size=(1, 23, 3))


def test_default_camera_is_the_image_diagonal_at_the_centre():
    assert CAMERA.focal_px == pytest.approx(960.0) and CAMERA.principal_point == (384.0, 288.0)
    assert full_image_camera(WIDTH, HEIGHT, focal_px=1500).focal_px == 1500
    # 35 mm-equivalent: 24 mm lens on a 36 mm wide sensor -> 24 / 36 * 768 px
    assert full_image_camera(WIDTH, HEIGHT, focal_mm=24, sensor_width_mm=36).focal_px == pytest.approx(512.0)
    assert full_image_camera(WIDTH, HEIGHT, fov_deg=90).focal_px == pytest.approx(384.0)
    with pytest.raises(CameraSpecError, match="positive"):
        full_image_camera(WIDTH, HEIGHT, focal_px=0)
    with pytest.raises(CameraSpecError, match="sensor width"):
        full_image_camera(WIDTH, HEIGHT, focal_mm=24)
    with pytest.raises(CameraSpecError, match="one way only"):
        full_image_camera(WIDTH, HEIGHT, focal_px=900, fov_deg=60)


def test_crop_depth_is_the_release_constant():
    assert CROP_DEPTH_SCALE == 48.828125
    t = crop_translation(torch.tensor([[0.1, -0.2, 0.0]]))
    torch.testing.assert_close(t, torch.tensor([[0.1, -0.2, 48.828125 / 2]]))


@pytest.mark.parametrize(("cx", "cy", "side"), BOXES)
def test_root_projects_where_the_crop_camera_put_it(cx, cy, side):
    _, _, mapped_back, full_px, _ = _scene(cx, cy, side, *_upright_random_pose(0))
    assert np.abs(full_px[0] - mapped_back[0]).max() < 1e-6


def test_with_no_pelvis_offset_the_formula_is_t_z_equals_2_5_f_gamma_over_b():
    bbox = torch.tensor([[500.0, 100.0, 150.0, 150.0]], dtype=torch.float64)
    crop_t = crop_translation(torch.tensor([[0.05, 0.02, 0.4]], dtype=torch.float64))
    full = crop_to_full_translation(crop_t, torch.zeros(1, 3, dtype=torch.float64), bbox, CAMERA)[0]
    gamma = 1 / (1 + math.exp(-0.4))
    depth = 2.5 * CAMERA.focal_px * gamma / 150
    assert float(full[2]) == pytest.approx(depth)
    assert float(full[0]) == pytest.approx(0.05 + (575 - 384) * depth / CAMERA.focal_px)
    assert float(full[1]) == pytest.approx(0.02 + (175 - 288) * depth / CAMERA.focal_px)
    assert float(box_focal(bbox)[0]) == pytest.approx(5000 * 150 / 256)


@pytest.mark.parametrize(("cx", "cy", "side"), BOXES)
def test_every_joint_in_the_pelvis_depth_plane_lands_within_half_a_pixel(cx, cy, side):
    # Upright (pi about x) with rotations only about the camera's viewing axis: the body stays flat.
    rng = np.random.default_rng(1)
    orient = np.array([[np.pi, 0.0, 0.0]])
    body = np.zeros((1, 23, 3))
    body[0, :, 2] = rng.normal(scale=0.4, size=23)
    rest = REST.copy()
    rest[:, 2] = REST[0, 2]
    crop_joints, _, mapped_back, full_px, _ = _scene(cx, cy, side, orient, body, rest=rest)
    assert np.ptp(crop_joints[:, 2]) < 1e-9  # really flat
    assert np.abs(full_px - mapped_back).max() < 0.5


@pytest.mark.parametrize(("cx", "cy", "side"), BOXES)
def test_off_plane_joints_move_exactly_as_the_documented_error_model_says(cx, cy, side):
    crop_joints, _, mapped_back, full_px, _ = _scene(cx, cy, side, *_upright_random_pose(2))
    f_box = 5000 * side / 256
    k = CAMERA.focal_px / f_box
    pelvis_z = crop_joints[0, 2]
    dz = crop_joints[:, 2] - pelvis_z
    x = crop_joints[:, :2]
    offset = np.array([cx, cy]) - np.array(CAMERA.principal_point)
    predicted = f_box * x * (1 / (pelvis_z + dz[:, None] / k) - 1 / (pelvis_z + dz[:, None])) - offset * (
        dz[:, None] / (k * pelvis_z + dz[:, None])
    )
    np.testing.assert_allclose(full_px - mapped_back, predicted, atol=1e-6)
