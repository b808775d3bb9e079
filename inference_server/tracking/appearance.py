"""What a person looks like, compactly: colour histograms of their torso and legs inside the keypoint polygon.

Clothing colour is what lets an animator (and the re-linker) tell that the walker who came out from
behind the post is the one who went in. Each region is a hue-saturation histogram (hue only where the
colour is saturated and bright enough to have one, plus a grey-level histogram for the rest), taken
inside the polygon the keypoints span, so the background around a small person weighs little. The two
regions' histograms are concatenated and each normalised to sum 1.
"""

from __future__ import annotations

import cv2
import numpy as np

from crowdmocap_addon.core.joints import COCO

HUE_BINS, SAT_BINS, GREY_BINS = 8, 3, 4
REGION_SIZE = HUE_BINS * SAT_BINS + GREY_BINS
MIN_CONFIDENCE = 0.3  # keypoints below this do not shape a region
MIN_SATURATION, MIN_VALUE = 40, 40  # below these (of 255) a pixel counts as grey, by its brightness
_TORSO = ("left_shoulder", "right_shoulder", "right_hip", "left_hip")
_LEGS = ("left_hip", "right_hip", "right_knee", "right_ankle", "left_ankle", "left_knee")
REGIONS = (tuple(COCO[n] for n in _TORSO), tuple(COCO[n] for n in _LEGS))
DESCRIPTOR_SIZE = REGION_SIZE * len(REGIONS)


def _region_histogram(hsv: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    pixels = hsv[mask > 0]
    if len(pixels) < 8:
        return None
    hue, sat, val = pixels[:, 0].astype(int), pixels[:, 1].astype(int), pixels[:, 2].astype(int)
    coloured = (sat >= MIN_SATURATION) & (val >= MIN_VALUE)
    out = np.zeros(REGION_SIZE)
    cells = (hue[coloured] * HUE_BINS // 180) * SAT_BINS + np.minimum(sat[coloured] * SAT_BINS // 256, SAT_BINS - 1)
    np.add.at(out, cells, 1.0)
    np.add.at(out, HUE_BINS * SAT_BINS + np.minimum(val[~coloured] * GREY_BINS // 256, GREY_BINS - 1), 1.0)
    return out / out.sum()


def describe(image: np.ndarray, keypoints: np.ndarray) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB and (17, 3) keypoints -> (DESCRIPTOR_SIZE,) histograms, or None if not enough is seen."""
    points = np.asarray(keypoints, dtype=np.float64)
    height, width = image.shape[:2]
    parts = []
    for region in REGIONS:
        corners = points[list(region)]
        if (corners[:, 2] < MIN_CONFIDENCE).sum() > 1:
            return None
        corners = corners[corners[:, 2] >= MIN_CONFIDENCE, :2]
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        mask = np.zeros(crop.shape[:2], np.uint8)
        polygon = np.round(corners - [x0, y0]).astype(np.int32)
        cv2.fillPoly(mask, [cv2.convexHull(polygon)], 1)
        histogram = _region_histogram(cv2.cvtColor(crop, cv2.COLOR_RGB2HSV), mask)
        if histogram is None:
            return None
        parts.append(histogram)
    return np.concatenate(parts).astype(np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Hellinger distance between two descriptors, averaged over the regions: 0 same colours, 1 disjoint."""
    return float(distances(a, b))


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``distance`` of (..., D) descriptors, broadcast over the leading axes."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a.reshape(*a.shape[:-1], len(REGIONS), REGION_SIZE)
    b = b.reshape(*b.shape[:-1], len(REGIONS), REGION_SIZE)
    overlap = np.sqrt(a * b).sum(axis=-1)
    return np.sqrt(np.clip(1.0 - overlap, 0.0, 1.0)).mean(axis=-1)


def mean_descriptor(descriptors: np.ndarray) -> np.ndarray | None:
    """(N, D) descriptors with NaN rows for frames not described -> (D,) their mean, or None if none."""
    rows = np.asarray(descriptors, dtype=np.float64)
    rows = rows[~np.isnan(rows).any(axis=1)]
    return rows.mean(axis=0) if len(rows) else None
