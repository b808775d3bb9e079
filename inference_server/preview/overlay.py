"""Draw people on a frame: a pure function (returns a new image, never touches the input)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from crowdmocap_addon.core.joints import COCO_SKELETON

MIN_CONFIDENCE = 0.1


@dataclass(frozen=True)
class OverlayPerson:
    keypoints: np.ndarray  # (17, 3) COCO x, y, confidence
    box: np.ndarray  # (4,) x0, y0, x1, y1
    track_id: int | None = None
    observed: bool = True  # False draws the person dashed-grey: interpolated, not seen


def track_colour(track_id: int | None) -> tuple[int, int, int]:
    """A stable, distinct RGB colour per id (golden-ratio hue steps)."""
    if track_id is None:
        return (255, 255, 255)
    hue = int((track_id * 0.618033988749895 % 1.0) * 179)
    hsv = np.uint8([[[hue, 200, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def draw_overlay(image: np.ndarray, people: Sequence[OverlayPerson]) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> a copy with each person's box, skeleton and track id drawn."""
    canvas = image.copy()
    scale = max(1, round(max(image.shape[:2]) / 640))
    for person in people:
        colour = track_colour(person.track_id) if person.observed else (128, 128, 128)
        x0, y0, x1, y1 = (round(float(v)) for v in person.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, scale)
        points = person.keypoints
        for a, b in COCO_SKELETON:
            if points[a, 2] > MIN_CONFIDENCE and points[b, 2] > MIN_CONFIDENCE:
                pa, pb = (tuple(round(float(v)) for v in points[j, :2]) for j in (a, b))
                cv2.line(canvas, pa, pb, colour, scale, cv2.LINE_AA)
        for x, y, confidence in points:
            if confidence > MIN_CONFIDENCE:
                cv2.circle(canvas, (round(x), round(y)), 2 * scale, colour, -1, cv2.LINE_AA)
        if person.track_id is not None:
            label = str(person.track_id)
            (w, h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, scale)
            cv2.rectangle(canvas, (x0, max(0, y0 - h - 4)), (x0 + w + 4, y0), colour, -1)
            cv2.putText(canvas, label, (x0 + 2, y0 - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, (0, 0, 0), scale)
    return canvas
