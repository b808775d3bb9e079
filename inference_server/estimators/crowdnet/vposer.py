"""The VPoser v1.0 decoder: a 32-d latent to 21 body-joint rotations (SMPL joints 1-21).

Parameter names match the VPoser v1.0 snapshot (``bodyprior_dec_*``). Dropout (p=0.1) sits between
the two hidden layers in the original; inference runs in eval mode, where it is the identity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .rotations import matrix_to_axis_angle, rot6d_to_matrix

LATENT_DIM = 32
HIDDEN = 512
BODY_JOINTS = 21


class VPoserV1Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bodyprior_dec_fc1 = nn.Linear(LATENT_DIM, HIDDEN)
        self.bodyprior_dec_fc2 = nn.Linear(HIDDEN, HIDDEN)
        self.bodyprior_dec_out = nn.Linear(HIDDEN, BODY_JOINTS * 6)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        """(N, 32) -> (N, 21, 3) axis-angle."""
        h = F.leaky_relu(self.bodyprior_dec_fc1(latent), 0.2)
        h = F.leaky_relu(self.bodyprior_dec_fc2(h), 0.2)
        rot6d = self.bodyprior_dec_out(h).view(-1, BODY_JOINTS, 6)
        return matrix_to_axis_angle(rot6d_to_matrix(rot6d))
