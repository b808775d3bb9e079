"""Planted feet, shared by the server's foot locking and the retargeter's foot pinning.

Each contact (probability > threshold over consecutive frames) pins the ankle at one anchor; the pin
fades in over ``blend`` frames before and out over ``blend`` frames after with a smoothstep, so the leg
never snaps. Two-bone IK then places the knee and ankle, and the thigh and calf are swung (minimal
rotations, twist kept) onto the new segments; the foot keeps its orientation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .geometry import smoothstep, swing_rotation

_REACH_MARGIN = 1e-4  # keep the knee off full extension and full fold, where its bend direction is undefined
Anchor = Literal["first", "mean"]


@dataclass(frozen=True)
class PinSchedule:
    """Per frame: where the ankle should be and how strongly (0 = free, 1 = pinned)."""

    targets: np.ndarray  # (T, 3) the ankle positions blended towards their anchors
    weights: np.ndarray  # (T,) in [0, 1]


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(T,) bool -> [(first, last)] inclusive frame indices of each run of True."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def contact_segments(contact: np.ndarray, threshold: float = 0.5) -> list[tuple[int, int]]:
    """(T,) contact probabilities -> [(first, last)] inclusive frame indices of each run above ``threshold``."""
    return true_runs(np.asarray(contact, dtype=np.float64) > threshold)


def _cut(segments: list[tuple[int, int]], cuts: np.ndarray | None) -> list[tuple[int, int]]:
    """Contact segments split before every frame marked in ``cuts``."""
    if cuts is None:
        return segments
    marked = np.flatnonzero(np.asarray(cuts, dtype=bool))
    out = []
    for first, last in segments:
        start = first
        for frame in marked[(marked > first) & (marked <= last)]:
            out.append((start, int(frame) - 1))
            start = int(frame)
        out.append((start, last))
    return out


def jump_frames(positions: np.ndarray, factor: float = 5.0, minimum: float = 0.05) -> np.ndarray:
    """(T,) bool: frames the (T, 3) positions jump into, a step longer than ``factor`` times the clip's
    median step and than ``minimum``. Relative to the person's own motion, so it holds at any frame rate
    and stride; the minimum keeps a standing person's jitter from counting."""
    steps = np.linalg.norm(np.diff(np.asarray(positions, dtype=np.float64), axis=0), axis=1)
    out = np.zeros(len(positions), dtype=bool)
    if len(steps):
        out[1:] = steps > max(factor * float(np.median(steps)), minimum)
    return out


def pin_schedule(
    positions: np.ndarray,
    contact: np.ndarray,
    *,
    threshold: float = 0.5,
    blend: int = 4,
    anchor: Anchor = "first",
    cuts: np.ndarray | None = None,
) -> PinSchedule:
    """(T, 3) unpinned ankle positions and (T,) contacts -> the pinned positions and blend weights.

    ``anchor="first"`` holds the ankle where the contact began (its height then is the contact height:
    what a retargeted character needs); ``"mean"`` holds it at its mean position over the contact (no bias
    towards a noisy first frame: what the capture's own clean-up wants). Between close contacts the
    stronger pin wins, so weights never exceed 1.

    ``cuts`` (T,) bool marks frames where the body jumped (a glitch, a cut in the footage): holding a foot
    back across one would bend the leg far away from the motion, so a contact is cut there and the foot
    pinned again where it now is.
    """
    pos = np.asarray(positions, dtype=np.float64)
    frames = len(pos)
    weights = np.zeros(frames)
    targets = pos.copy()
    index = np.arange(frames)
    ramp = max(int(blend), 0)
    for first, last in _cut(contact_segments(contact, threshold), cuts):
        point = pos[first] if anchor == "first" else pos[first : last + 1].mean(axis=0)
        weight = np.zeros(frames)
        weight[first : last + 1] = 1.0
        if ramp:
            before = (index >= first - ramp) & (index < first)
            after = (index > last) & (index <= last + ramp)
            # ``ramp`` frames strictly between free (0) and pinned (1) on each side.
            weight[before] = smoothstep((index[before] - (first - ramp - 1)) / (ramp + 1))
            weight[after] = smoothstep((last + ramp + 1 - index[after]) / (ramp + 1))
        stronger = weight > weights
        weights[stronger] = weight[stronger]
        targets[stronger] = point
    blended = pos + weights[:, None] * (targets - pos)
    return PinSchedule(targets=blended, weights=weights)


def two_bone_ik(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray, forward: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Place a two-bone chain so its end reaches ``target`` (or as close as its length allows).

    All (T, 3). The segment lengths are |knee − hip| and |ankle − knee|; the knee stays in the plane of hip,
    target and the current knee (its bend direction), or bends towards ``forward`` where the leg is straight.
    Returns the new (knee, ankle) positions.
    """
    hip, knee, ankle, target = (np.asarray(v, dtype=np.float64) for v in (hip, knee, ankle, target))
    upper = np.linalg.norm(knee - hip, axis=-1)
    lower = np.linalg.norm(ankle - knee, axis=-1)
    reach = target - hip
    distance = np.linalg.norm(reach, axis=-1)
    axis = reach / np.maximum(distance, 1e-12)[:, None]
    low = np.abs(upper - lower) + _REACH_MARGIN * (upper + lower)
    high = (upper + lower) * (1.0 - _REACH_MARGIN)
    distance = np.clip(distance, low, high)
    # Bend direction: the current knee's offset across the hip -> target line, else the forward hint.
    bend = knee - hip
    bend = bend - np.sum(bend * axis, axis=-1, keepdims=True) * axis
    hint = np.asarray(forward, dtype=np.float64)
    hint = hint - np.sum(hint * axis, axis=-1, keepdims=True) * axis
    straight = np.linalg.norm(bend, axis=-1) < 1e-6 * np.maximum(upper, 1e-12)
    bend = np.where(straight[:, None], hint, bend)
    bend = bend / np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-12)
    cos_hip = np.clip((upper**2 + distance**2 - lower**2) / (2.0 * upper * distance), -1.0, 1.0)
    sin_hip = np.sqrt(1.0 - cos_hip**2)
    new_knee = hip + upper[:, None] * (cos_hip[:, None] * axis + sin_hip[:, None] * bend)
    new_ankle = hip + distance[:, None] * axis
    return new_knee, new_ankle


def leg_swings(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, new_knee: np.ndarray, new_ankle: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3) old and new chain points -> (T, 3, 3) world swings for the thigh and the calf.

    Left-multiplying a bone's world rotation by its swing turns its segment onto the new one and keeps
    its twist about it.
    """
    thigh = swing_rotation(knee - hip, new_knee - hip)
    calf = swing_rotation(ankle - knee, new_ankle - new_knee)
    return thigh, calf
