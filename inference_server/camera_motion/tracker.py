"""The camera through streamed footage: each frame measured from the last frame that could be measured.

Unlike ``path.chain`` over precomputed frame-to-frame steps, a frame that cannot be measured (a whip pan,
a blurred or blank frame) does not lose its motion for the frames after it: the next frame is measured
from the last reliable one directly, across the gap. Only that one frame (and its boxes) is kept, so
memory does not grow with the clip.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .features import frame_step
from .parallax import (
    FLOOR_BASELINE,
    TRANSLATING_RATIO,
    TRANSLATING_WINDOW,
    FloorStep,
    essential_rotation,
    floor_step,
    parallax_ratio,
)
from .path import STILL_STEP_PX, CameraPath, advance, bridged, corner_motion

MAX_GAP = 10  # frames: past this the last reliable frame is too far from the current view to compare


class CameraTracker:
    """Fed one frame at a time (with its people's boxes, masked out of the background) as the clip streams.

    ``focal`` is the latest frame's focal length, for the estimators that place people in that frame's
    camera; ``finish`` gives the whole path with unmeasured frames bridged.
    """

    def __init__(self, focal: float, max_gap: int = MAX_GAP) -> None:
        self.max_gap = max_gap
        self._first_focal = float(focal)
        self._rotations: list[np.ndarray] = []
        self._focals: list[float] = []
        self._reliable: list[bool] = []
        self.frames: list[int] = []  # the video frame index of each update
        self.translating: list[bool] = []  # per frame: its step was taken for one that moved the camera's centre
        self._ratios: list[float] = []  # parallax_ratio of the recent floor steps
        self.floor_steps: list[FloorStep] = []  # the floor's homography every FLOOR_BASELINE frames (parallax.py)
        self._anchor: tuple[np.ndarray, Sequence[np.ndarray], int] | None = None  # last reliable frame
        self._floor_anchor: tuple[np.ndarray, Sequence[np.ndarray], int] | None = None  # where the floor step starts

    @property
    def focal(self) -> float:
        return self._focals[-1] if self._focals else self._first_focal

    def update(self, frame: np.ndarray, boxes: Sequence[np.ndarray], frame_index: int | None = None) -> None:
        index = len(self._rotations)
        self.frames.append(index if frame_index is None else int(frame_index))
        if self._anchor is None:
            self._add(np.eye(3), self._first_focal, True)
            self._anchor = self._floor_anchor = (frame, boxes, index)
            return
        self._floor(frame, boxes, index)
        height, width = frame.shape[:2]
        last_frame, last_boxes, last = self._anchor
        step = frame_step(last_frame, frame, last_boxes, boxes)
        centre = (width / 2.0, height / 2.0)
        moved = advance(step, self._rotations[last], self._focals[last], centre)
        translating = False
        if (
            moved is not None
            and self._moving_centre
            and corner_motion(step.homography, (width, height)) >= STILL_STEP_PX
        ):
            moved, translating = self._unbiased(step, moved, last, centre)
        if moved is None:
            self._add(self._rotations[last], self._focals[last], False)
            if index - last >= self.max_gap:
                self._anchor = (frame, boxes, index)  # too far apart to compare: carry on from here
            return
        self._add(moved[0], moved[1], True)
        self.translating[-1] = translating
        self._anchor = (frame, boxes, index)

    @property
    def _moving_centre(self) -> bool:
        """The recent floor steps show parallax: the camera is moving its centre, not only turning."""
        recent = self._ratios[-TRANSLATING_WINDOW:]
        return bool(recent) and float(np.median(recent)) > TRANSLATING_RATIO

    def _unbiased(self, step, moved: tuple[np.ndarray, float], last: int,
                  centre: tuple[float, float]) -> tuple[tuple[np.ndarray, float], bool]:  # fmt: skip
        """The step's camera from the essential matrix, for a camera moving its centre (a homography then
        fits the floor, whose motion it reads as a turn and a zoom; the zoom is held), and whether it could."""
        near = moved[0] @ self._rotations[last].T  # the homography's turn
        essential = essential_rotation(step, self._focals[last], centre, near)
        if essential is None:
            return moved, False
        return (essential[0] @ self._rotations[last], self._focals[last]), True

    def _floor(self, frame: np.ndarray, boxes: Sequence[np.ndarray], index: int,
               baseline: int = FLOOR_BASELINE) -> None:  # fmt: skip
        """Every ``baseline`` frames, the floor's homography since the last such frame (parallax.py)."""
        start_frame, start_boxes, start = self._floor_anchor
        if index - start < baseline:
            return
        step = frame_step(start_frame, frame, start_boxes, boxes)
        floor = floor_step(step, start, index, frame.shape[0])
        if floor.homography is None and index - start < self.max_gap and baseline == FLOOR_BASELINE:
            return  # a blurred or blocked frame: the next one is measured from the same start instead
        self.floor_steps.append(floor)
        self._floor_anchor = (frame, boxes, index)
        ratio = parallax_ratio(step, self._focals[start], (frame.shape[1] / 2.0, frame.shape[0] / 2.0))
        if ratio is not None and baseline == FLOOR_BASELINE:
            self._ratios = [*self._ratios[-(TRANSLATING_WINDOW - 1) :], ratio]

    def _add(self, rotation: np.ndarray, focal: float, reliable: bool) -> None:
        self.translating.append(False)
        self._rotations.append(rotation)
        self._focals.append(float(focal))
        self._reliable.append(reliable)

    def finish(self) -> CameraPath:
        """Every frame's rotation (relative to the first frame's camera) and focal, gaps bridged."""
        if self._anchor is not None and self._floor_anchor is not None and self._anchor[2] > self._floor_anchor[2]:
            self._floor(*self._anchor, baseline=1)  # the clip's last frames, from the last floor step
        self._anchor = self._floor_anchor = None
        path = CameraPath(rotations=np.array(self._rotations).reshape(-1, 3, 3), focals=np.array(self._focals),
                          reliable=np.array(self._reliable, dtype=bool))  # fmt: skip
        return bridged(path)


def track_camera(frames: Iterable[np.ndarray], boxes: Iterable[Sequence[np.ndarray]], focal: float,
                 max_gap: int = MAX_GAP) -> CameraPath:  # fmt: skip
    """Every frame's rotation (relative to the first frame's camera) and focal; ``boxes`` are each frame's
    people boxes, masked out of the background. A gap longer than ``max_gap`` restarts from the last
    frame held (its motion is then lost, and the frames are flagged)."""
    tracker = CameraTracker(focal, max_gap)
    for frame, people in zip(frames, boxes, strict=True):
        tracker.update(frame, people)
    return tracker.finish()
