"""3DCrowdNet's network end to end, up to SMPL parameters and the crop camera.

Submodule names follow the release (``backbone``, ``pose2feat``, ``position_net``, ``rotation_net``,
``vposer``) so the checkpoint maps onto them with only the GCN stacking in between. Inference only:
BatchNorm always uses its running statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .backbone import ResNet50Backbone
from .heads import (
    FEATURE_GRID,
    HEATMAP_SIZE,
    Pose2Feat,
    PositionNet,
    RotationNet,
    gaussian_heatmaps,
)
from .rotations import rot6d_to_axis_angle
from .vposer import VPoserV1Decoder


@dataclass(frozen=True)
class CrowdNetRaw:
    """What the network predicts for N crops."""

    global_orient: torch.Tensor  # (N, 3) axis-angle in the crop camera
    body_pose: torch.Tensor  # (N, 23, 3) axis-angle; hands (joints 22, 23) are zero
    betas: torch.Tensor  # (N, 10)
    cam_param: torch.Tensor  # (N, 3) raw camera head: t_x, t_y (metres), depth logit
    joint_img: torch.Tensor  # (N, 15, 3) PositionNet joints in 64-grid units (x, y) and depth bins x 8
    joint_score: torch.Tensor  # (N, 15, 1)


class CrowdNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = ResNet50Backbone()
        self.pose2feat = Pose2Feat()
        self.position_net = PositionNet()
        self.rotation_net = RotationNet()
        self.vposer = VPoserV1Decoder()
        self.eval()

    def train(self, mode: bool = True) -> CrowdNet:
        if mode:
            raise RuntimeError("this 3DCrowdNet implementation is for inference only (BatchNorm in eval mode)")
        return super().train(False)

    def forward(self, image: torch.Tensor, joints: torch.Tensor, mask: torch.Tensor) -> CrowdNetRaw:
        """image (N, 3, 256, 256) RGB in [0, 1]; joints (N, 30, 3) in 64-grid pixels; mask (N, 30, 1)."""
        early = self.backbone.stem(image)
        heatmaps = gaussian_heatmaps(joints.to(early.dtype), mask.to(early.dtype))
        features = self.backbone.body(self.pose2feat(early, heatmaps))
        coords, score = self.position_net(features)
        root6d, latent, betas, cam = self.rotation_net(features, coords, score)
        body21 = self.vposer(latent)
        hands = body21.new_zeros(body21.shape[0], 2, 3)
        return CrowdNetRaw(
            global_orient=rot6d_to_axis_angle(root6d),
            body_pose=torch.cat([body21, hands], dim=1),
            betas=betas,
            cam_param=cam,
            joint_img=coords * (HEATMAP_SIZE / FEATURE_GRID),
            joint_score=score,
        )
