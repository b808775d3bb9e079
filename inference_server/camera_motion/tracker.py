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


def track_camera(frames: Iterable[np.ndarray], boxes: Iterable[Sequence[np.ndarray]], focal: float,
                 max_gap: int = MAX_GAP) -> CameraPath:  # fmt: skip
    """Every frame's rotation (relative to the first frame's camera) and focal; ``boxes`` are each frame's
    people boxes, masked out of the background. A gap longer than ``max_gap`` restarts from the last
    frame held (its motion is then lost, and the frames are flagged)."""
    rotations, focals, reliable = [], [], []
    anchor = None  # (frame, boxes, index) of the last reliable frame
    for index, (frame, people) in enumerate(zip(frames, boxes, strict=True)):
        if anchor is None:
            rotations.append(np.eye(3))
            focals.append(float(focal))
            reliable.append(True)
            anchor = (frame, people, index)
            continue
        height, width = frame.shape[:2]
        last_frame, last_boxes, last_index = anchor
        moved = advance(frame_step(last_frame, frame, last_boxes, people), rotations[last_index],
                        focals[last_index], (width / 2.0, height / 2.0))  # fmt: skip
        if moved is None:
            rotations.append(rotations[last_index])
            focals.append(focals[last_index])
            reliable.append(False)
            if index - last_index >= max_gap:
                anchor = (frame, people, index)  # too far apart to compare: carry on from here
            continue
        rotations.append(moved[0])
        focals.append(moved[1])
        reliable.append(True)
        anchor = (frame, people, index)
    return bridged(CameraPath(rotations=np.array(rotations), focals=np.array(focals), reliable=np.array(reliable)))
