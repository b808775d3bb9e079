"""The homography between two frames from their background: corners tracked with pyramidal Lucas-Kanade,
people masked out (they move on their own), a RANSAC fit that keeps the points that agree.

The people's boxes are known from the 2D stage; everything inside them (grown by a margin, as a box is
drawn around the body, not the shadow and the swinging arms) is left out of the corner search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

MAX_CORNERS = 400
MIN_INLIERS = 30  # fewer agreeing background points than this and the step is not trusted
RANSAC_PX = 0.4  # measured: 1.5 px let walkers' points in (1.06 deg of drift over 30 still frames), 0.4 px: 0.15
BOX_MARGIN = 0.15  # of the box's size, on each side


@dataclass(frozen=True, kw_only=True)
class FrameStep:
    homography: np.ndarray | None  # (3, 3) previous frame pixels -> this frame's; None when not found
    inliers: int  # background points that agree with it
    tracked: int  # background points followed from the previous frame
    # (N, 2) each followed background point in the previous frame and in this one (for the parallax solve)
    source: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    target: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    @property
    def reliable(self) -> bool:
        return self.homography is not None and self.inliers >= MIN_INLIERS


def background_mask(shape: tuple[int, int], boxes: Sequence[np.ndarray]) -> np.ndarray:
    """(H, W) uint8: 255 where the background may be used, 0 inside the (grown) people boxes."""
    height, width = shape
    mask = np.full((height, width), 255, dtype=np.uint8)
    for box in boxes:
        x0, y0, x1, y1 = (float(v) for v in box[:4])
        dx, dy = BOX_MARGIN * (x1 - x0), BOX_MARGIN * (y1 - y0)
        left, top = max(int(x0 - dx), 0), max(int(y0 - dy), 0)
        right, bottom = min(int(np.ceil(x1 + dx)), width), min(int(np.ceil(y1 + dy)), height)
        mask[top:bottom, left:right] = 0
    return mask


def _grey(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def frame_step(previous: np.ndarray, current: np.ndarray, previous_boxes: Sequence[np.ndarray] = (),
               current_boxes: Sequence[np.ndarray] = ()) -> FrameStep:  # fmt: skip
    """How the background moved from ``previous`` to ``current`` (RGB or grey frames of one size)."""
    before, after = _grey(previous), _grey(current)
    corners = cv2.goodFeaturesToTrack(before, MAX_CORNERS, qualityLevel=0.01, minDistance=8,
                                      mask=background_mask(before.shape, previous_boxes))  # fmt: skip
    if corners is None or len(corners) < MIN_INLIERS:
        return FrameStep(homography=None, inliers=0, tracked=0 if corners is None else len(corners))
    moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, corners, None, winSize=(21, 21), maxLevel=3)
    back, back_status, _ = cv2.calcOpticalFlowPyrLK(after, before, moved, None, winSize=(21, 21), maxLevel=3)
    ok = (status.ravel() == 1) & (back_status.ravel() == 1)
    ok &= np.linalg.norm((back - corners).reshape(-1, 2), axis=1) < 0.5  # forward-backward consistent
    landing = background_mask(after.shape, current_boxes)
    points = moved.reshape(-1, 2)
    inside = (
        (points[:, 0] >= 0) & (points[:, 1] >= 0) & (points[:, 0] < after.shape[1]) & (points[:, 1] < after.shape[0])
    )
    ok &= inside
    ok[ok] &= landing[points[ok, 1].astype(int), points[ok, 0].astype(int)] > 0  # not onto a person
    source, target = corners.reshape(-1, 2)[ok], points[ok]
    if len(source) < MIN_INLIERS:
        return FrameStep(homography=None, inliers=0, tracked=len(source))
    homography, agree = cv2.findHomography(source, target, cv2.RANSAC, RANSAC_PX, maxIters=2000, confidence=0.999)
    if homography is None:
        return FrameStep(homography=None, inliers=0, tracked=len(source), source=source, target=target)
    return FrameStep(homography=homography, inliers=int(agree.sum()), tracked=len(source), source=source,
                     target=target)  # fmt: skip
