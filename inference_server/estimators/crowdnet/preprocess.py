"""3DCrowdNet's input preparation, as the release's demo does it: box from the pose, square crop, heatmap
coordinates and the joint mask.

Boxes are [x, y, w, h] in image pixels. The crop maps a box to 256 x 256 with
x_crop = (x - cx) * 256 / w + 128 (same for y), sampled bilinearly with zero padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CROP_SIZE = 256
HEATMAP_SIZE = 64
DEFAULT_VALIDITY_THRESHOLD = 0.1  # the release demo's pose_thr
POSE_BOX_MARGIN = 1.2  # box = 1.2 x the extent of the valid joints
CROP_BOX_MARGIN = 1.25  # square box enlarged by 1.25 before cropping


@dataclass(frozen=True)
class CrowdNetInput:
    """One person crop ready for the network."""

    image: np.ndarray  # (3, 256, 256) float32 RGB in [0, 1]
    joints: np.ndarray  # (30, 3) float32: x, y in 64 x 64 heatmap pixels, confidence
    mask: np.ndarray  # (30, 1) float32: 1 where the joint is valid and inside the crop
    bbox: np.ndarray  # (4,) float64: the square crop box [x, y, w, h] in image pixels


def bbox_from_pose(joints: np.ndarray, valid: np.ndarray) -> np.ndarray | None:
    """(J, 2+) joints and (J,) validity -> [x, y, w, h] covering the valid joints x 1.2; None if none valid."""
    points = np.asarray(joints)[np.asarray(valid, dtype=bool), :2]
    if len(points) == 0:
        return None
    low, high = points.min(axis=0), points.max(axis=0)
    centre, size = (low + high) / 2, (high - low) * POSE_BOX_MARGIN
    return np.array([centre[0] - size[0] / 2, centre[1] - size[1] / 2, size[0], size[1]])


def process_bbox(bbox: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """Clip to the image, make square (input aspect 1), enlarge 1.25x about the clipped centre.

    The clip keeps the release's quirk x2 = min(W - 1, x1 + max(0, w - 1)): a box sticking out on the
    left is shifted right, not shortened. Returns None for an empty box; the result may extend past
    the image (the crop pads with black).
    """
    x, y, w, h = (float(v) for v in bbox)
    x1, y1 = max(0.0, x), max(0.0, y)
    x2 = min(width - 1.0, x1 + max(0.0, w - 1.0))
    y2 = min(height - 1.0, y1 + max(0.0, h - 1.0))
    if not (w * h > 0 and x2 >= x1 and y2 >= y1):
        return None
    w, h = x2 - x1, y2 - y1
    cx, cy = x1 + w / 2, y1 + h / 2
    side = max(w, h) * CROP_BOX_MARGIN
    return np.array([cx - side / 2, cy - side / 2, side, side])


def crop_transform(bbox: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """(2, 3) affine taking image pixels to crop pixels for box [x, y, w, h]."""
    x, y, w, h = (float(v) for v in bbox)
    cx, cy = x + w / 2, y + h / 2
    sx, sy = size / w, size / h
    return np.array([[sx, 0.0, size / 2 - cx * sx], [0.0, sy, size / 2 - cy * sy]])


def crop_image(image_rgb: np.ndarray, bbox: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (size, size, 3) uint8 crop of the box (bilinear, black outside the image)."""
    return cv2.warpAffine(image_rgb, crop_transform(bbox, size), (size, size), flags=cv2.INTER_LINEAR)


def joints_to_heatmap_space(joints30: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """(30, 3) image-pixel joints -> (30, 3) with x, y in 64-grid units of the crop; confidence kept."""
    trans = crop_transform(bbox)
    out = np.array(joints30, dtype=np.float64, copy=True)
    out[:, :2] = (joints30[:, :2] @ trans[:, :2].T + trans[:, 2]) * (HEATMAP_SIZE / CROP_SIZE)
    return out


def joint_mask(joints_hm: np.ndarray, threshold: float = DEFAULT_VALIDITY_THRESHOLD) -> np.ndarray:
    """(30, 3) heatmap-space joints -> (30, 1) mask: confident (conf > threshold) and inside the 64 x 64 grid."""
    x, y, conf = joints_hm[:, 0], joints_hm[:, 1], joints_hm[:, 2]
    inside = (x >= 0) & (x < HEATMAP_SIZE) & (y >= 0) & (y < HEATMAP_SIZE)
    return ((conf > threshold) & inside).astype(np.float32)[:, None]


def person_box(joints30: np.ndarray, width: int, height: int, threshold: float = DEFAULT_VALIDITY_THRESHOLD):
    """The square crop box for a person's (30, 3) image-pixel joints, or None when none are usable."""
    raw = bbox_from_pose(joints30, joints30[:, 2] > threshold)
    return None if raw is None else process_bbox(raw, width, height)


def prepare_crop(
    image_rgb: np.ndarray,
    joints30: np.ndarray,
    bbox: np.ndarray,
    threshold: float = DEFAULT_VALIDITY_THRESHOLD,
) -> CrowdNetInput:
    """Crop the image to ``bbox`` and express the person's (30, 3) image-pixel joints in that crop."""
    crop = crop_image(image_rgb, bbox)
    joints_hm = joints_to_heatmap_space(joints30, bbox)
    return CrowdNetInput(
        image=np.ascontiguousarray(crop.transpose(2, 0, 1), dtype=np.float32) / 255.0,
        joints=joints_hm.astype(np.float32),
        mask=joint_mask(joints_hm, threshold),
        bbox=np.asarray(bbox, dtype=np.float64),
    )
