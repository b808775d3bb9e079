"""The parts of 3DCrowdNet after the backbone: Pose2Feat, PositionNet and the joint-specific GCN.

Where the release loops in Python, these are vectorised: one ``grid_sample`` for all 15 joints, and
the 15 joint-specific linear layers of each graph block as one batched matmul over stacked weights.
The checkpoint's per-joint tensors are stacked on load (see ``checkpoint.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .joint_sets import GRAPH15, JOINTS30, graph_adjacency

NUM_GRAPH_JOINTS = len(GRAPH15)
DEPTH_BINS = 8
FEATURE_GRID = 8
GCN_WIDTH = 128
HEATMAP_SIGMA = 2.5
HEATMAP_SIZE = 64


def gaussian_heatmaps(joints: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N, 30, 3) joints in 64-grid pixels and (N, 30, 1) mask -> (N, 30, 64, 64) unnormalised Gaussians."""
    grid = torch.arange(HEATMAP_SIZE, dtype=joints.dtype, device=joints.device)
    dx = (grid[None, None, None, :] - joints[:, :, 0, None, None]) / HEATMAP_SIGMA  # (N, J, 1, W)
    dy = (grid[None, None, :, None] - joints[:, :, 1, None, None]) / HEATMAP_SIGMA  # (N, J, H, 1)
    return torch.exp(-(dx**2) / 2 - dy**2 / 2) * mask[..., None]


class Pose2Feat(nn.Module):
    """Fuse the early image feature (64 ch) with the 30 pose heatmaps, image first."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(64 + len(JOINTS30), 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(True))

    def forward(self, image_feature: torch.Tensor, heatmaps: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([image_feature, heatmaps], dim=1))


class PositionNet(nn.Module):
    """(N, 2048, 8, 8) -> joint coordinates (N, 15, 3) in 8-grid units and their scores (N, 15, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(2048, NUM_GRAPH_JOINTS * DEPTH_BINS, 1))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = features.shape[0]
        volume = self.conv(features).reshape(n, NUM_GRAPH_JOINTS, DEPTH_BINS * FEATURE_GRID * FEATURE_GRID)
        volume = F.softmax(volume, dim=2).view(n, NUM_GRAPH_JOINTS, DEPTH_BINS, FEATURE_GRID, FEATURE_GRID)
        steps = torch.arange(FEATURE_GRID, dtype=volume.dtype, device=volume.device)
        x = (volume.sum(dim=(2, 3)) * steps).sum(-1)
        y = (volume.sum(dim=(2, 4)) * steps).sum(-1)
        z = (volume.sum(dim=(3, 4)) * torch.arange(DEPTH_BINS, dtype=volume.dtype, device=volume.device)).sum(-1)
        coords = torch.stack([x, y, z], dim=-1)  # (N, 15, 3)
        # Probability at the soft-argmax location, one trilinear grid_sample for all joints.
        grid = (coords / (FEATURE_GRID - 1) * 2 - 1).reshape(n * NUM_GRAPH_JOINTS, 1, 1, 1, 3)
        score = F.grid_sample(
            volume.reshape(n * NUM_GRAPH_JOINTS, 1, DEPTH_BINS, FEATURE_GRID, FEATURE_GRID),
            grid,
            align_corners=True,
        )
        return coords, score.reshape(n, NUM_GRAPH_JOINTS, 1)


class JointwiseLinearBN(nn.Module):
    """15 independent Linear + BatchNorm1d pairs (eval statistics), stored stacked along the first axis."""

    def __init__(self, in_features: int, out_features: int, joints: int = NUM_GRAPH_JOINTS, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(joints, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(joints, out_features))
        self.bn_weight = nn.Parameter(torch.ones(joints, out_features))
        self.bn_bias = nn.Parameter(torch.zeros(joints, out_features))
        self.register_buffer("running_mean", torch.zeros(joints, out_features))
        self.register_buffer("running_var", torch.ones(joints, out_features))
        self.register_buffer("num_batches_tracked", torch.zeros(joints, dtype=torch.long))
        bound = in_features**-0.5  # nn.Linear's default initialisation
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, J, in) -> (N, J, out)."""
        y = torch.baddbmm(self.bias[:, None, :], x.transpose(0, 1), self.weight.transpose(1, 2))  # (J, N, out)
        scale = self.bn_weight * torch.rsqrt(self.running_var + self.eps)
        y = (y - self.running_mean[:, None, :]) * scale[:, None, :] + self.bn_bias[:, None, :]
        return y.transpose(0, 1)


class GraphConvBlock(nn.Module):
    """Joint-specific FC -> BN -> normalised-adjacency mixing -> ReLU."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.fcbn = JointwiseLinearBN(in_features, out_features)
        self.register_buffer("adj", torch.tensor(graph_adjacency(), dtype=torch.float32), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(torch.matmul(self.adj, self.fcbn(x)))


class GraphResBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.graph_block1 = GraphConvBlock(width, width)
        self.graph_block2 = GraphConvBlock(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.graph_block2(self.graph_block1(x)) + x


def sample_joint_features(features: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """(N, C, 8, 8) features at the joints' (x, y) (N, 15, 3 in 8-grid units) -> (N, 15, C), bilinear."""
    grid = (coords[:, :, None, :2] / (FEATURE_GRID - 1)) * 2 - 1  # (N, 15, 1, 2)
    sampled = F.grid_sample(features, grid, align_corners=True)  # (N, C, 15, 1)
    return sampled[..., 0].transpose(1, 2)


class RotationNet(nn.Module):
    """GCN over the 15 joints, then heads: 6D root, VPoser latent (32), betas (10), camera (3)."""

    def __init__(self) -> None:
        super().__init__()
        self.graph_block = nn.Sequential(
            GraphConvBlock(2048 + 4, GCN_WIDTH), *[GraphResBlock(GCN_WIDTH) for _ in range(4)]
        )
        flat = NUM_GRAPH_JOINTS * GCN_WIDTH
        self.root_pose_out = nn.Sequential(nn.Linear(flat, 6))
        self.pose_out = nn.Sequential(nn.Linear(flat, 32))
        self.shape_out = nn.Sequential(nn.Linear(flat, 10))
        self.cam_out = nn.Sequential(nn.Linear(flat, 3))

    def forward(
        self, features: torch.Tensor, coords: torch.Tensor, score: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """features (N, 2048, 8, 8), coords (N, 15, 3), score (N, 15, 1) -> root6d, z, betas, cam."""
        joint_feat = torch.cat([sample_joint_features(features, coords), coords, score], dim=2)  # (N, 15, 2052)
        flat = self.graph_block(joint_feat).flatten(1)  # (N, 1920), joint-major
        return self.root_pose_out(flat), self.pose_out(flat), self.shape_out(flat), self.cam_out(flat)
