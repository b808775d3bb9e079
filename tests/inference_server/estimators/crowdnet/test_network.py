"""The vectorised network equals the release's per-joint loops; rotations and VPoser against scipy."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.transform import Rotation

from inference_server.estimators.crowdnet.checkpoint import official_state_dict
from inference_server.estimators.crowdnet.heads import gaussian_heatmaps
from inference_server.estimators.crowdnet.rotations import matrix_to_axis_angle, rot6d_to_axis_angle, rot6d_to_matrix
from tests.helpers.crowdnet_files import random_network
from tests.helpers.release_style import rotation_net_loops


@pytest.fixture(scope="module")
def network():
    return random_network(seed=3)


def _inputs(batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, 256, 256, generator=g)
    joints = torch.rand(batch, 30, 3, generator=g) * torch.tensor([64.0, 64.0, 1.0])
    mask = (torch.rand(batch, 30, 1, generator=g) > 0.3).float()
    return image, joints, mask


@torch.inference_mode()
def test_vectorised_gcn_and_sampling_equal_the_per_joint_loops(network):
    official = official_state_dict(network)
    image, joints, mask = _inputs(4)
    features = network.backbone.body(network.pose2feat(network.backbone.stem(image), gaussian_heatmaps(joints, mask)))
    coords, score = network.position_net(features)
    ours = network.rotation_net(features, coords, score)
    theirs = rotation_net_loops(official, features, coords, score)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@torch.inference_mode()
def test_position_score_equals_per_joint_trilinear_sampling(network):
    g = torch.Generator().manual_seed(5)
    features = torch.randn(2, 2048, 8, 8, generator=g)
    coords, score = network.position_net(features)
    volume = F.softmax(network.position_net.conv(features).view(2, 15, -1), 2).view(2, 15, 8, 8, 8)
    for j in range(15):
        grid = (coords[:, j] / 7 * 2 - 1).view(2, 1, 1, 1, 3)
        expected = F.grid_sample(volume[:, j : j + 1], grid, align_corners=True).view(2)
        torch.testing.assert_close(score[:, j, 0], expected)
    assert coords.min() >= 0 and coords.max() <= 7


def test_rot6d_follows_the_column_layout_and_matches_scipy():
    rng = np.random.default_rng(0)
    rot6d = torch.tensor(rng.normal(size=(1000, 6)))
    matrix = rot6d_to_matrix(rot6d).numpy()
    a1 = rot6d.numpy()[:, [0, 2, 4]]  # view (3, 2) row-major: first column is entries 0, 2, 4
    np.testing.assert_allclose(matrix[:, :, 0], a1 / np.linalg.norm(a1, axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(matrix), 1.0, atol=1e-12)
    aa = rot6d_to_axis_angle(rot6d).numpy()
    np.testing.assert_allclose(aa, Rotation.from_matrix(matrix).as_rotvec(), atol=1e-9)


def test_matrix_to_axis_angle_near_pi_and_identity_matches_scipy():
    rng = np.random.default_rng(1)
    axes = rng.normal(size=(600, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = np.concatenate([np.pi - rng.uniform(0, 1e-4, 200), rng.uniform(0, 1e-5, 200), rng.uniform(0, np.pi, 200)])
    rotvec = axes * angles[:, None]
    matrices = Rotation.from_rotvec(rotvec).as_matrix()
    ours = matrix_to_axis_angle(torch.tensor(matrices)).numpy()
    np.testing.assert_allclose(Rotation.from_rotvec(ours).as_matrix(), matrices, atol=1e-9)
    assert np.linalg.norm(ours, axis=1).max() <= np.pi + 1e-9
    # the batch of exactly three that the release gets wrong (torch.cross without dim)
    three = torch.tensor(rng.normal(size=(3, 6)))
    one_by_one = torch.cat([rot6d_to_axis_angle(three[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(rot6d_to_axis_angle(three), one_by_one)


@torch.inference_mode()
def test_vposer_decoder_matches_independent_numpy_and_scipy(network):
    z = torch.tensor(np.random.default_rng(2).normal(size=(16, 32)), dtype=torch.float32)
    ours = network.vposer(z).numpy()
    w = {k: v.double().numpy() for k, v in network.vposer.state_dict().items()}
    leaky = lambda x: np.where(x > 0, x, 0.2 * x)  # noqa: E731
    h = leaky(z.double().numpy() @ w["bodyprior_dec_fc1.weight"].T + w["bodyprior_dec_fc1.bias"])
    h = leaky(h @ w["bodyprior_dec_fc2.weight"].T + w["bodyprior_dec_fc2.bias"])
    out = (h @ w["bodyprior_dec_out.weight"].T + w["bodyprior_dec_out.bias"]).reshape(16, 21, 3, 2)
    b1 = out[..., 0] / np.linalg.norm(out[..., 0], axis=-1, keepdims=True)
    a2 = out[..., 1]
    b2 = a2 - (b1 * a2).sum(-1, keepdims=True) * b1
    b2 /= np.linalg.norm(b2, axis=-1, keepdims=True)
    matrix = np.stack([b1, b2, np.cross(b1, b2)], axis=-1)
    expected = Rotation.from_matrix(matrix.reshape(-1, 3, 3)).as_rotvec().reshape(16, 21, 3)
    np.testing.assert_allclose(ours, expected, atol=2e-5)


@torch.inference_mode()
def test_forward_shapes_and_hands_are_zero(network):
    raw = network(*_inputs(2))
    assert raw.global_orient.shape == (2, 3) and raw.body_pose.shape == (2, 23, 3)
    assert raw.betas.shape == (2, 10) and raw.cam_param.shape == (2, 3)
    assert raw.joint_img.shape == (2, 15, 3) and raw.joint_score.shape == (2, 15, 1)
    assert not raw.body_pose[:, 21:].any()
    with pytest.raises(RuntimeError, match="inference only"):
        network.train()
