"""Pairwise keypoint similarity between people (OKS), vectorised; box IoU lives in ``poses2d.boxes``."""

from __future__ import annotations

import numpy as np

from ..poses2d.boxes import box_sizes
from ..poses2d.types import COCO_SIGMAS


def keypoint_similarity(a: np.ndarray, b: np.ndarray, boxes_a: np.ndarray, min_confidence: float = 0.1) -> np.ndarray:
    """(M, 17, 3), (N, 17, 3), scale boxes (M, 4) -> (M, N) OKS over joints confident in both.

    The scale is the area of ``a``'s box, as COCO uses the ground-truth area. Pairs sharing no
    confident joint score 0.
    """
    area = np.prod(np.clip(box_sizes(boxes_a), 1.0, None), axis=1)  # (M,); sides under a pixel count as one
    d2 = ((a[:, None, :, :2] - b[None, :, :, :2]) ** 2).sum(-1)  # (M, N, 17)
    k2 = (2 * COCO_SIGMAS) ** 2
    e = d2 / (2 * area[:, None, None] * k2[None, None, :])
    both = (a[:, None, :, 2] > min_confidence) & (b[None, :, :, 2] > min_confidence)
    count = both.sum(-1)
    return np.where(count > 0, (np.exp(-e) * both).sum(-1) / np.maximum(count, 1), 0.0)
