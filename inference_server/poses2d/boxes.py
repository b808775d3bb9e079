"""Person boxes: (N, 4) float arrays of x0, y0, x1, y1 in image pixels, and their overlaps.

The one place for box geometry, so that "overlap" means the same thing when a pose backend merges
duplicate detections (NMS) and when the tracker matches people across frames (IoU). Pure NumPy.
"""

from __future__ import annotations

import numpy as np


def boxes_from_xywh(xywh: np.ndarray) -> np.ndarray:
    """(N, 4) x, y (top-left), width, height -> (N, 4) x0, y0, x1, y1 (OpenCV rectangles, COCO boxes)."""
    xywh = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def boxes_from_centres(centres: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(N, 2) centres and (N, 2) width, height -> (N, 4) x0, y0, x1, y1 (anchor-based detector heads)."""
    centres, sizes = np.asarray(centres, dtype=np.float64), np.asarray(sizes, dtype=np.float64)
    return np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)


def box_from_keypoints(keypoints: np.ndarray, min_confidence: float = 0.1) -> np.ndarray | None:
    """(K, 3) x, y, confidence -> (4,) the tight box around the confident keypoints, or None when none is."""
    points = keypoints[keypoints[:, 2] > min_confidence, :2]
    if len(points) == 0:
        return None
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def box_sizes(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) -> (N, 2) width, height; negative for inverted boxes, so callers can reject them."""
    return boxes[:, 2:] - boxes[:, :2]


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) -> (N,) areas, 0 for empty or inverted boxes."""
    return np.prod(np.clip(box_sizes(boxes), 0, None), axis=1)


def box_intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, 4) and (N, 4) -> (M, N) areas of overlap."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.prod(np.clip(hi - lo, 0, None), axis=2)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, 4) and (N, 4) -> (M, N) intersection over union; 0 where both boxes are empty."""
    inter = box_intersections(a, b)
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def box_containment(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, 4) and (N, 4) -> (M, N) overlap over the smaller box's area: 1 when one box lies inside the other.

    IoU stays low for a small box inside a big one; this catches it (half-body windows inside a whole one).
    """
    smaller = np.minimum(box_areas(a)[:, None], box_areas(b)[None, :])
    return box_intersections(a, b) / np.maximum(smaller, 1e-9)


def non_max_suppression(
    boxes: np.ndarray, scores: np.ndarray, iou: float, *, max_containment: float | None = None
) -> list[int]:
    """Greedy NMS: indices of the boxes kept, best score first.

    Each kept box drops every lower-scored box overlapping it by IoU >= ``iou`` and, when
    ``max_containment`` is given, every box lying that much inside it or around it (see ``box_containment``).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while order.size:
        best, order = order[0], order[1:]
        keep.append(int(best))
        drop = box_iou(boxes[best : best + 1], boxes[order])[0] >= iou
        if max_containment is not None:
            drop |= box_containment(boxes[best : best + 1], boxes[order])[0] >= max_containment
        order = order[~drop]
    return keep
