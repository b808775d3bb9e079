"""Typed containers passed from the 2D pose stage to tracking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from crowdmocap_addon.core.joints import COCO_KEYPOINT_NAMES

NUM_KEYPOINTS = len(COCO_KEYPOINT_NAMES)  # 17
# COCO keypoint falloffs (the OKS sigmas of the COCO evaluation), in COCO order.
COCO_SIGMAS = np.array([
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087,
    0.089, 0.089,
])  # fmt: skip


@dataclass(frozen=True)
class PersonPose:
    """One person found in one frame."""

    keypoints: np.ndarray  # (17, 3) COCO x, y in image pixels and confidence in [0, 1]
    box: np.ndarray  # (4,) x0, y0, x1, y1 in image pixels (see boxes.py)
    score: float  # detection confidence in [0, 1]
    world_landmarks: np.ndarray | None = None  # (33, 3) BlazePose metric 3D landmarks, when the backend has them
    appearance: np.ndarray | None = None  # what they look like (tracking/appearance.py), for re-linking


@dataclass(frozen=True)
class FramePoses:
    """Everyone found in one frame."""

    index: int  # frame index in the footage
    time: float  # seconds
    people: list[PersonPose] = field(default_factory=list)


class PoseBackend(Protocol):
    """What every 2D pose backend offers (BlazePose top-down, RTMO, RTMPose): one RGB frame in, people out.

    A top-down backend that can also look where the tracker expects people (``takes_regions = True``) is
    called with ``regions=`` (N, 4) boxes too, so a person its detector misses in a frame keeps their pose.
    """

    name: str

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> FramePoses:
        """(H, W, 3) uint8 RGB -> everyone found, COCO-17 keypoints in image pixels."""
        ...

    def close(self) -> None:
        """Release the model (sessions, graphs)."""
        ...
