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
from .path import CameraPath, advance, bridged

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
        self._anchor: tuple[np.ndarray, Sequence[np.ndarray], int] | None = None  # last reliable frame

    @property
    def focal(self) -> float:
        return self._focals[-1] if self._focals else self._first_focal

    def update(self, frame: np.ndarray, boxes: Sequence[np.ndarray], frame_index: int | None = None) -> None:
        index = len(self._rotations)
        self.frames.append(index if frame_index is None else int(frame_index))
        if self._anchor is None:
            self._add(np.eye(3), self._first_focal, True)
            self._anchor = (frame, boxes, index)
            return
        height, width = frame.shape[:2]
        last_frame, last_boxes, last = self._anchor
        moved = advance(frame_step(last_frame, frame, last_boxes, boxes), self._rotations[last], self._focals[last],
                        (width / 2.0, height / 2.0))  # fmt: skip
        if moved is None:
            self._add(self._rotations[last], self._focals[last], False)
            if index - last >= self.max_gap:
                self._anchor = (frame, boxes, index)  # too far apart to compare: carry on from here
            return
        self._add(moved[0], moved[1], True)
        self._anchor = (frame, boxes, index)

    def _add(self, rotation: np.ndarray, focal: float, reliable: bool) -> None:
        self._rotations.append(rotation)
        self._focals.append(float(focal))
        self._reliable.append(reliable)

    def finish(self) -> CameraPath:
        """Every frame's rotation (relative to the first frame's camera) and focal, gaps bridged."""
        self._anchor = None
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
