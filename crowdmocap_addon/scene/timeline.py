"""Where a result's video frames land on Blender's timeline, and at what frame rate.

Result frames are 0-based video frame indices; Blender's timeline conventionally starts at 1, and a movie
clip's first frame plays at scene frame 1. So video frame f is scene frame ``f + FRAME_OFFSET``.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.result.schema import CaptureResult

FRAME_OFFSET = 1
_MAX_SCENE_FPS = 32767  # RenderSettings.fps is a short


def scene_frames(video_frames: np.ndarray) -> np.ndarray:
    """(T,) video frame indices -> (T,) float64 scene frames."""
    return np.asarray(video_frames, dtype=np.float64) + FRAME_OFFSET


def scene_fps(fps_rational: tuple[int, int]) -> tuple[int, float]:
    """Exact (fps, fps_base) for Blender's render settings: 30000/1001 stays 30000 and 1001.0.

    Both are stored exactly (fps_base is a float32; small integers are exact), so fps / fps_base is the
    clip's true rate. A numerator too large for Blender is rounded to the nearest integer rate instead.
    """
    num, den = (int(v) for v in fps_rational)
    if num <= 0 or den <= 0:
        raise ValueError(f"frame rate {num}/{den} must be positive")
    common = math.gcd(num, den)
    num, den = num // common, den // common
    if num <= _MAX_SCENE_FPS:
        return num, float(den)
    rounded = max(1, min(_MAX_SCENE_FPS, round(num / den)))
    return rounded, rounded * den / num


def scene_frame_range(result: CaptureResult) -> tuple[int, int]:
    """(frame_start, frame_end) on the scene timeline: every person's frames, or the clip without people."""
    if result.people:
        first = min(int(track.frames[0]) for track in result.people)
        last = max(int(track.frames[-1]) for track in result.people)
    else:
        first = result.video.first_frame
        last = max(first, result.video.frame_count - 1)
    return first + FRAME_OFFSET, last + FRAME_OFFSET
