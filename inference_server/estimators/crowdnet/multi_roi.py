"""Multi-RoI test-time option (Multi-RoI HMR, Sec. 3.5): run each person on five boxes and fuse.

The boxes are the original square box plus four shifted and rescaled copies: offsets (±0.1 b, 0) and
(0, ±0.1 b) with scales 1.5, 1.25, 0.8 and 0.65. Every RoI's camera is converted to the one
full-image camera; fusing then averages rotations (chordal mean, projected back onto SO(3)),
averages shapes, and takes the per-axis median of the pelvis positions. How far the RoIs' full-image
translations spread is reported as a per-frame consistency measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

ROI_OFFSETS = ((0.1, 0.0), (-0.1, 0.0), (0.0, 0.1), (0.0, -0.1))
ROI_SCALES = (1.5, 1.25, 0.8, 0.65)
MAX_ROIS = 1 + len(ROI_SCALES)


def roi_boxes(bbox: np.ndarray, rois: int) -> np.ndarray:
    """[x, y, w, h] -> (rois, 4): the box itself first, then up to four shifted/rescaled boxes."""
    if not 1 <= rois <= MAX_ROIS:
        raise ValueError(f"rois must be between 1 and {MAX_ROIS}, got {rois}")
    x, y, w, h = (float(v) for v in bbox)
    cx, cy = x + w / 2, y + h / 2
    boxes = [[x, y, w, h]]
    for (ox, oy), scale in list(zip(ROI_OFFSETS, ROI_SCALES, strict=True))[: rois - 1]:
        nx, ny = cx + ox * w, cy + oy * h
        nw, nh = w * scale, h * scale
        boxes.append([nx - nw / 2, ny - nh / 2, nw, nh])
    return np.array(boxes)


def mean_rotation(matrices: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Rotations stacked along ``dim`` (..., 3, 3) -> the rotation closest (Frobenius) to their mean."""
    mean = matrices.mean(dim=dim)
    u, _, vh = torch.linalg.svd(mean)
    fix = torch.ones_like(mean[..., 0])
    fix[..., 2] = torch.sign(torch.det(u @ vh))  # keep det = +1
    return u @ torch.diag_embed(fix) @ vh


@dataclass(frozen=True)
class FusedRois:
    """One fused estimate per person (P people)."""

    rotations: torch.Tensor  # (P, 24, 3, 3) root and body joint rotations
    betas: torch.Tensor  # (P, 10)
    pelvis: torch.Tensor  # (P, 3) pelvis position in the full-image camera, metres
    spread: torch.Tensor  # (P,) RMS distance (m) of the RoIs' pelvis positions from their median


def fuse_rois(rotations: torch.Tensor, betas: torch.Tensor, pelvis: torch.Tensor) -> FusedRois:
    """rotations (P, R, 24, 3, 3), betas (P, R, 10), full-image pelvis positions (P, R, 3) -> fused per person.

    Pelvis positions rather than SMPL translations are fused: each RoI's betas put the rest pelvis at a
    slightly different place, and the pelvis is what the cameras agree on.
    """
    median = pelvis.median(dim=1).values  # (P, 3)
    spread = ((pelvis - median[:, None]) ** 2).sum(-1).mean(-1).sqrt()
    return FusedRois(rotations=mean_rotation(rotations, dim=1), betas=betas.mean(1), pelvis=median, spread=spread)
