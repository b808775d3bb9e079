"""Re-link track fragments that are one person: someone hidden behind a post or another walker for 1-3 s.

The online tracker ends a track its person left for longer than its lost buffer, and the person comes
back as a new track: one walker becomes several characters popping in and out. After the pass, every
fragment end is offered every later fragment start, through gates that a single walker passes and two
people almost never do:

- time: the second starts after the first ends (never two people seen at once), within ``max_gap_s``;
- size: similar image heights at the hand-over (the same person at a similar distance);
- motion: the second starts where the first was heading (its end velocity carried over the gap) or
  where it was hidden (people meet, wait and turn in crowds), within a tolerance that grows with the
  gap, and the implied speed is plausible for a person on foot;
- appearance: the torso and leg colours (``appearance.py``) are close.

Gated pairs are costed (appearance distance plus the motion miss, the smaller of the two, in body
heights per second of gap) and assigned globally with the Hungarian method, one successor per end and
one predecessor per start.
Each link earns ``link_reward`` less its cost and the assignment takes the most earning set, so a link
costlier than the reward is never taken, and two plausible links do not outvote one good one (with
every gated pair equally welcome, the assignment maximised the number of links and chained a man onto
a neighbour to make room for another's link; measured on the shared street clip). Repeated until
nothing more links, so chains of three fragments join. The gap is filled by interpolation and flagged
unobserved (confidence 0), like the tracker's own short gaps. Tracks the online tracker carried from
one person onto another are cut first (``look_changes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from .appearance import distance, mean_descriptor
from .tracker import NOT_OBSERVED, Track


@dataclass(kw_only=True, frozen=True)
class RelinkSettings:
    max_gap_s: float = 3.0  # the longest occlusion bridged
    max_speed: float = 2.5  # body heights per second (about 4 m/s for an adult): faster is not one walker
    miss_heights: float = 0.6  # allowed distance from the predicted re-appearance, in body heights ...
    miss_heights_per_s: float = 0.5  # ... plus this much per second of gap (people change pace behind a post)
    max_size_ratio: float = 1.5  # image heights at the hand-over differ by less than this factor
    max_appearance: float = 0.35  # Hellinger distance of the torso/leg colours above which it is someone else
    edge_frames: int = 5  # observed frames at each end that describe its position, motion and looks
    # Fragments seen in fewer frames are not linked: one stray frame (a detection on a neighbour, a pose
    # half on two people) would otherwise bridge two people's fragments (measured on the street clips).
    min_fragment_frames: int = 3
    # What a link is worth: only links cheaper than this are taken (the costs of gated links run up to
    # ~0.95). Measured on the shared street clips (docs/poses2d.md): 0.6-0.9 give the same tracks, 0.5 more.
    link_reward: float = 0.7


@dataclass(frozen=True)
class _End:
    """How a fragment ends (or, reversed, begins): where, how big, how fast, what it looks like."""

    frame: int
    centre: np.ndarray  # (2,) box centre, pixels
    height: float  # box height, pixels
    velocity: np.ndarray  # (2,) pixels per second
    looks: np.ndarray | None


def _edge(track: Track, fps: float, count: int, *, last: bool) -> _End:
    """The fragment's last (or first) ``count`` observed frames, summarised."""
    seen = np.flatnonzero(track.observed)
    picked = seen[-count:] if last else seen[:count]
    boxes = track.boxes[picked]
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    frames = track.frames[picked].astype(np.float64)
    velocity = np.zeros(2)
    if len(picked) > 1 and frames[-1] > frames[0]:
        velocity = (centres[-1] - centres[0]) / ((frames[-1] - frames[0]) / fps)
    at = -1 if last else 0
    looks = mean_descriptor(track.appearance[picked]) if track.appearance is not None else None
    return _End(int(track.frames[picked[at]]), centres[at], float(np.median(boxes[:, 3] - boxes[:, 1])), velocity,
                looks)  # fmt: skip


def link_cost(before: _End, after: _End, fps: float, settings: RelinkSettings) -> float | None:
    """What linking the fragment ending at ``before`` to the one starting at ``after`` costs; None if gated out."""
    gap_s = (after.frame - before.frame) / fps
    if not 0 < gap_s <= settings.max_gap_s:
        return None
    height = (before.height + after.height) / 2
    if height <= 0 or max(before.height, after.height) > settings.max_size_ratio * min(before.height, after.height):
        return None
    moved = np.linalg.norm(after.centre - before.centre) / height
    if moved > settings.max_speed * gap_s + settings.miss_heights:  # boxes jitter at a hand-over, however short
        return None
    walked_on = np.linalg.norm(after.centre - (before.centre + before.velocity * gap_s)) / height
    miss = min(walked_on, moved)  # or they stopped where they were hidden
    if miss > settings.miss_heights + settings.miss_heights_per_s * gap_s:
        return None
    if before.looks is None or after.looks is None:
        return None  # without a look at both ends, position alone is too weak to merge two characters
    looks = distance(before.looks, after.looks)
    if looks > settings.max_appearance:
        return None
    return looks + miss / (1.0 + gap_s)


def _joined(first: Track, second: Track, frames: np.ndarray) -> Track:
    """One track: ``first``, the processed frames between, ``second``; the gap interpolated and unobserved."""
    gap = frames[(frames > first.frames[-1]) & (frames < second.frames[0])]
    span = np.concatenate([first.frames[-1:], gap, second.frames[:1]])

    def bridge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        weights = ((gap - span[0]) / (span[-1] - span[0])).reshape(-1, *([1] * a.ndim))
        return (1 - weights) * a + weights * b

    def glue(name: str, a_end: np.ndarray, b_start: np.ndarray, filler: np.ndarray | None = None) -> np.ndarray:
        middle = bridge(a_end, b_start) if filler is None else filler
        return np.concatenate([getattr(first, name), middle.astype(getattr(first, name).dtype), getattr(second, name)])

    keypoints_gap = bridge(first.keypoints[-1], second.keypoints[0])
    keypoints_gap[..., 2] = 0.0  # filled in, not observed
    world = None
    if first.world_landmarks is not None and second.world_landmarks is not None:
        world = glue("world_landmarks", first.world_landmarks[-1], second.world_landmarks[0])
    appearance = None
    if first.appearance is not None and second.appearance is not None:
        appearance = glue("appearance", first.appearance[-1], second.appearance[0],
                          np.full((len(gap), first.appearance.shape[1]), np.nan))  # fmt: skip
    detections = None
    if first.detections is not None and second.detections is not None:
        detections = glue("detections", first.detections[-1], second.detections[0],
                          np.full(len(gap), NOT_OBSERVED))  # fmt: skip
    return replace(
        first,
        frames=np.concatenate([first.frames, gap, second.frames]),
        keypoints=np.concatenate([first.keypoints, keypoints_gap, second.keypoints]),
        boxes=glue("boxes", first.boxes[-1], second.boxes[0]),
        observed=np.concatenate([first.observed, np.zeros(len(gap), bool), second.observed]),
        scores=np.concatenate([first.scores, np.zeros(len(gap)), second.scores]),
        world_landmarks=world,
        detections=detections,
        appearance=appearance,
    )


def _links(current: list[Track], fps: float, settings: RelinkSettings) -> dict[int, int]:
    """{fragment index: the fragment that continues it}, one successor and one predecessor at most each."""
    ends = [_edge(t, fps, settings.edge_frames, last=True) for t in current]
    starts = [_edge(t, fps, settings.edge_frames, last=False) for t in current]
    cost = np.full((len(current), len(current)), np.inf)
    solid = [int(t.observed.sum()) >= settings.min_fragment_frames for t in current]
    for i, end in enumerate(ends):
        for j, start in enumerate(starts):
            value = link_cost(end, start, fps, settings) if i != j and solid[i] and solid[j] else None
            if value is not None:
                cost[i, j] = value
    return assign_links(cost, settings.link_reward)


def assign_links(cost: np.ndarray, reward: float) -> dict[int, int]:
    """(ends, starts) link costs (inf: gated out) -> {end: start}: the set of links earning the most.

    Each link earns ``reward`` less its cost; a link that would earn nothing is not a candidate, so
    leaving two fragments apart is always an option and a link is never taken just to have one more.
    """
    worth = np.where(cost < reward, reward - cost, 0.0)  # 0: not linked
    if not worth.any():
        return {}
    rows, cols = linear_sum_assignment(worth, maximize=True)
    return {int(i): int(j) for i, j in zip(rows, cols, strict=True) if worth[i, j] > 0}


def relink(
    tracks: list[Track], processed_frames: np.ndarray, fps: float, settings: RelinkSettings | None = None
) -> list[Track]:
    """The tracks with fragments of one person joined (the earliest fragment's id is kept), by first frame."""
    settings = settings or RelinkSettings()
    frames = np.asarray(processed_frames)
    current = sorted((t for t in tracks if t.observed.any()), key=lambda t: int(t.frames[0]))
    while links := _links(current, fps, settings):
        merged, used = [], set()
        for head, track in enumerate(current):  # by first frame: a chain's head comes before its links
            if head in used:
                continue
            chain, at = track, head
            while at in links:
                at = links[at]
                used.add(at)
                chain = _joined(chain, current[at], frames)
            merged.append(chain)
        current = sorted(merged, key=lambda t: int(t.frames[0]))
    return current
