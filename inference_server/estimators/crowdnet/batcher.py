"""3DCrowdNet across frames: person crops gathered as the clip streams, run in batches, answers kept compact.

Images live only until their batch has run, so memory stays flat however long the clip is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.core.result.schema import PinholeCamera

from ...footage.reader import Frame
from ...pipeline.progress import PipelineError, StageMeter
from ...poses2d.types import FramePoses
from ...tracking.tracker import NOT_OBSERVED, Track
from .predictor import CrowdNetPredictor, PersonRequest


@dataclass(frozen=True)
class FrameEstimate:
    """3DCrowdNet's answer for one detection, kept compact: 85 floats and a score."""

    global_orient: np.ndarray  # (3,)
    body_pose: np.ndarray  # (23, 3)
    betas: np.ndarray  # (10,)
    pelvis: np.ndarray  # (3,) camera-frame pelvis: independent of which betas the track settles on


EstimateKey = tuple[int, int]  # (frame index, position of the detection in that frame's people)


def track_estimates(estimates: Mapping[EstimateKey, FrameEstimate], track: Track) -> list[FrameEstimate | None]:
    """3DCrowdNet's answer for the detection ``track`` took in each of its frames; None where it took none.

    Joined by detection index, never by keypoints: two people posed alike in one frame keep their own answers.
    """
    if track.detections is None:
        return [None] * len(track.frames)
    return [estimates.get((int(f), int(d))) if d != NOT_OBSERVED else None
            for f, d in zip(track.frames, track.detections, strict=True)]  # fmt: skip


class CrowdNetBatcher:
    """Gathers person crops across frames and runs 3DCrowdNet once enough are waiting."""

    def __init__(self, predictor: CrowdNetPredictor, camera: PinholeCamera, meter: StageMeter) -> None:
        self.predictor, self.camera, self.meter = predictor, camera, meter
        self.estimates: dict[EstimateKey, FrameEstimate] = {}
        self._images: list[np.ndarray] = []
        self._requests: list[PersonRequest] = []
        self._keys: list[EstimateKey] = []
        self._frames: list[int] = []

    def add(self, frame: Frame, poses: FramePoses, focal_px: float | None = None) -> None:
        """The frame's people, placed with ``focal_px`` (this frame's, when the camera zooms) or the camera's."""
        self._frames.append(frame.index)
        if poses.people:
            self._images.append(frame.image)
            for detection, person in enumerate(poses.people):  # the same people, in the order the tracker saw
                self._requests.append(PersonRequest(len(self._images) - 1, person.keypoints, focal_px))
                self._keys.append((frame.index, detection))
        if len(self._requests) * self.predictor.rois >= self.predictor.batch_size:
            self.flush()

    def flush(self) -> None:
        if self._requests:
            try:
                answers = self.predictor.predict(self._images, self._requests, self.camera)
            except Exception as exc:
                raise PipelineError("estimate", f"3DCrowdNet failed: {exc}", self._frames[0]) from exc
            for key, answer in zip(self._keys, answers, strict=True):
                if answer is not None:
                    self.estimates[key] = FrameEstimate(
                        answer.global_orient, answer.body_pose, answer.betas, answer.joints[0].astype(np.float64)
                    )
        if self._frames:
            self.meter.advance(len(self._frames))
        self._images, self._requests, self._keys, self._frames = [], [], [], []
