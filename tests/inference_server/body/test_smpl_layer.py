"""The body layer wraps smplx.SMPL, and the result format's meaning holds against it.

Statement 1: FK on rest_joints with global_orient/body_pose/transl gives smplx's 24 joints.
Statement 2: NumPy skinning of the same parameters gives smplx's vertices.
"""

import numpy as np
import pytest
import torch

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.skinning import skin_vertices
from crowdmocap_addon.core.body.smpl_file import SmplModelNotFoundError, load_smpl_model
from inference_server.body.smpl_layer import SmplBody
from tests.helpers.synthetic_smpl import REST_JOINTS


def _random_params(seed, frames=8):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(scale=0.8, size=10),
        rng.normal(scale=1.0, size=(frames, 3)),
        rng.normal(scale=0.4, size=(frames, 23, 3)),
        rng.normal(scale=2.0, size=(frames, 3)),
    )


def _smplx(body, betas, orient, pose, transl):
    frames = orient.shape[0]
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        out = body(as_t(np.tile(betas, (frames, 1))), as_t(orient), as_t(pose), as_t(transl))
    return out.joints.numpy().astype(np.float64), out.vertices.numpy().astype(np.float64)


@pytest.mark.parametrize("fixture", ["smpl_official_pkl", "smpl_npz"])
def test_fk_from_rest_joints_equals_smplx_joints(request, fixture):
    body = SmplBody.from_file(request.getfixturevalue(fixture))
    for seed in range(3):
        betas, orient, pose, transl = _random_params(seed)
        joints, _ = _smplx(body, betas, orient, pose, transl)
        ours = forward_kinematics(body.rest_joints(betas), orient, pose, transl).joints
        np.testing.assert_allclose(ours, joints, atol=2e-5)


def test_numpy_skinning_equals_smplx_vertices(smpl_official_pkl):
    body = SmplBody.from_file(smpl_official_pkl)
    model = load_smpl_model(smpl_official_pkl)
    betas, orient, pose, transl = _random_params(7)
    _, vertices = _smplx(body, betas, orient, pose, transl)
    np.testing.assert_allclose(skin_vertices(model, betas, orient, pose, transl), vertices, atol=2e-5)
    # The pose blend shapes matter: leaving them out must not match.
    without = skin_vertices(model, betas, orient, pose, transl, pose_blend_shapes=False)
    assert np.abs(without - vertices).max() > 1e-3


def test_zero_parameters_give_the_template(smpl_npz):
    body = SmplBody.from_file(smpl_npz)
    joints, vertices = _smplx(body, np.zeros(10), np.zeros((1, 3)), np.zeros((1, 23, 3)), np.zeros((1, 3)))
    np.testing.assert_allclose(joints[0], REST_JOINTS, atol=1e-6)
    np.testing.assert_allclose(vertices[0], load_smpl_model(smpl_npz).v_template, atol=1e-6)


def test_missing_model_file_error_is_actionable(tmp_path):
    with pytest.raises(SmplModelNotFoundError, match=r"smpl\.is\.tue\.mpg\.de"):
        SmplBody.from_file(tmp_path, gender="male")


@pytest.mark.gpu
def test_cuda_forward_matches_cpu(smpl_npz):
    body = SmplBody.from_file(smpl_npz)
    betas, orient, pose, transl = _random_params(3)
    cpu_joints, cpu_vertices = _smplx(body, betas, orient, pose, transl)
    gpu = body.to("cuda")
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float32, device="cuda")  # noqa: E731
    with torch.no_grad():
        out = gpu(as_t(np.tile(betas, (8, 1))), as_t(orient), as_t(pose), as_t(transl))
    np.testing.assert_allclose(out.joints.cpu().numpy(), cpu_joints, atol=1e-4)
    np.testing.assert_allclose(out.vertices.cpu().numpy(), cpu_vertices, atol=1e-4)
