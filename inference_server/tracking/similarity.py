"""Pairwise similarity between people: object keypoint similarity (OKS) and box IoU, vectorised."""

from __future__ import annotations

import numpy as np

from ..poses2d.types import COCO_SIGMAS


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, 4) and (N, 4) x0, y0, x1, y1 -> (M, N) intersection over union."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def keypoint_similarity(a: np.ndarray, b: np.ndarray, boxes_a: np.ndarray, min_confidence: float = 0.1) -> np.ndarray:
    """(M, 17, 3), (N, 17, 3), scale boxes (M, 4) -> (M, N) OKS over joints confident in both.

    The scale is the area of ``a``'s box, as COCO uses the ground-truth area. Pairs sharing no
    confident joint score 0.
    """
    area = np.prod(np.clip(boxes_a[:, 2:] - boxes_a[:, :2], 1.0, None), axis=1)  # (M,)
    d2 = ((a[:, None, :, :2] - b[None, :, :, :2]) ** 2).sum(-1)  # (M, N, 17)
    k2 = (2 * COCO_SIGMAS) ** 2
    e = d2 / (2 * area[:, None, None] * k2[None, None, :])
    both = (a[:, None, :, 2] > min_confidence) & (b[None, :, :, 2] > min_confidence)
    count = both.sum(-1)
    return np.where(count > 0, (np.exp(-e) * both).sum(-1) / np.maximum(count, 1), 0.0)
