"""Multi-RoI boxes and fusion on synthetic per-RoI predictions."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from inference_server.estimators.crowdnet.multi_roi import fuse_rois, mean_rotation, roi_boxes


def test_five_boxes_follow_the_paper():
    boxes = roi_boxes(np.array([100.0, 200.0, 80.0, 80.0]), 5)  # centre (140, 240), side 80
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    np.testing.assert_allclose(centres, [[140, 240], [148, 240], [132, 240], [140, 248], [140, 232]])
    np.testing.assert_allclose(boxes[:, 2], [80, 120, 100, 64, 52])
    assert len(roi_boxes(np.array([0.0, 0.0, 10.0, 10.0]), 1)) == 1
    with pytest.raises(ValueError, match="between 1 and 5"):
        roi_boxes(np.array([0.0, 0.0, 10.0, 10.0]), 6)


def test_rotation_mean_of_symmetric_perturbations_is_the_centre():
    centre = Rotation.from_rotvec([0.3, -1.2, 2.0])
    deltas = Rotation.from_rotvec([[0.2, 0, 0], [-0.2, 0, 0], [0, 0.15, 0], [0, -0.15, 0], [0, 0, 0]])
    matrices = torch.tensor((centre * deltas).as_matrix())
    mean = mean_rotation(matrices).numpy()
    np.testing.assert_allclose(mean, centre.as_matrix(), atol=1e-3)
    np.testing.assert_allclose(mean @ mean.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(mean) == pytest.approx(1.0)


def test_fusion_averages_pose_and_shape_and_takes_the_median_pelvis():
    rng = np.random.default_rng(0)
    truth = Rotation.from_rotvec(rng.normal(scale=0.5, size=(24, 3)))
    rotations = torch.stack(
        [
            torch.tensor((truth * Rotation.from_rotvec(rng.normal(scale=0.05, size=(24, 3)))).as_matrix())
            for _ in range(5)
        ]
    )
    betas = torch.tensor(rng.normal(size=(5, 10)))
    pelvis = torch.tensor(
        [[0.1, 0.2, 10.0], [0.12, 0.19, 10.4], [0.09, 0.21, 9.8], [0.1, 0.2, 10.1], [3.0, 3.0, 30.0]],
        dtype=torch.float64,
    )
    fused = fuse_rois(rotations[None], betas[None], pelvis[None])
    fused_error = (Rotation.from_matrix(fused.rotations[0].numpy()) * truth.inv()).magnitude()
    single_errors = [(Rotation.from_matrix(r.numpy()) * truth.inv()).magnitude() for r in rotations]
    assert fused_error.mean() < 0.6 * np.mean(single_errors)  # averaging five noisy RoIs helps
    torch.testing.assert_close(fused.betas[0], betas.mean(0))
    # per-axis medians: x of (0.1, 0.12, 0.09, 0.1, 3), y of (0.2, 0.19, 0.21, 0.2, 3), z of (10, 10.4, 9.8, 10.1, 30)
    torch.testing.assert_close(fused.pelvis[0], torch.tensor([0.1, 0.2, 10.1], dtype=torch.float64))  # outlier ignored
    expected_spread = ((pelvis - fused.pelvis[0]) ** 2).sum(-1).mean().sqrt()
    torch.testing.assert_close(fused.spread[0], expected_spread)
    agreeing = fuse_rois(rotations[None], betas[None], pelvis[:1].repeat(5, 1)[None])
    assert float(agreeing.spread) == 0.0


def test_fusing_many_people_at_once_equals_fusing_each():
    rng = np.random.default_rng(4)
    rotations = torch.tensor(Rotation.from_rotvec(rng.normal(size=(3 * 5 * 24, 3))).as_matrix()).view(3, 5, 24, 3, 3)
    betas, pelvis = torch.tensor(rng.normal(size=(3, 5, 10))), torch.tensor(rng.normal(size=(3, 5, 3)))
    together = fuse_rois(rotations, betas, pelvis)
    for person in range(3):
        alone = fuse_rois(rotations[person : person + 1], betas[person : person + 1], pelvis[person : person + 1])
        for name in ("rotations", "betas", "pelvis", "spread"):
            torch.testing.assert_close(getattr(together, name)[person], getattr(alone, name)[0])
