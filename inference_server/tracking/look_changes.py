"""Cut a track where the person in it changes: the online tracker sliding from one person onto another.

In a group the tracker can carry a track from someone who steps behind a post onto the neighbour who
stands where they were (measured on the shared street clip: a track on a man in dark trousers until he
goes behind the sign, then on the man in jeans beside him). Boxes and motion see nothing happen there;
clothing colour does. Where the torso and leg colours (``appearance.py``) before a frame and after it
belong to different people, the track is cut, and re-linking (``relink.py``) then joins each piece to
the person it belongs to.

The test is robust to a passer-by: each side's frames are compared, one by one, with the other side's
mean, and the median decides, so someone crossing in front for less than half a window does not cut.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .appearance import distances
from .tracker import Track


@dataclass(kw_only=True, frozen=True)
class LookChangeSettings:
    window_s: float = 0.8  # the frames on each side of a cut that say who is there
    # median distance of one side's frames to the other side's mean above which they are two people;
    # measured on the shared street clips: up to 0.32 inside one person's track, 0.56 at the one switch
    max_change: float = 0.45


def look_changes(descriptors: np.ndarray, window: int, chunk: int = 2048) -> np.ndarray:
    """(N, D) described frames -> (N - 2 window + 1,): how differently the ``window`` frames before each
    position ``window`` ... ``N - window`` and the ``window`` from it on are dressed.

    Each side's frames against the other side's mean (median Hellinger distance); the smaller of the two,
    so both sides have to disagree with each other for a change to count. In chunks of positions, so a
    long track's windows never all sit in memory at once.
    """
    windows = np.lib.stride_tricks.sliding_window_view(descriptors, window, axis=0).swapaxes(1, 2)  # (N-w+1, w, D)
    means = windows.mean(axis=1)  # mean of frames [i, i + window)
    positions = len(descriptors) - 2 * window + 1
    out = np.empty(max(positions, 0))
    for start in range(0, positions, chunk):
        at = np.arange(start, min(start + chunk, positions))  # the change between at + window - 1 and at + window
        before, after = windows[at], windows[at + window]
        forward = np.median(distances(after, means[at][:, None]), axis=1)
        backward = np.median(distances(before, means[at + window][:, None]), axis=1)
        out[at] = np.minimum(forward, backward)
    return out


def look_change(descriptors: np.ndarray, at: int, window: int) -> float:
    """``look_changes`` at one position: the ``window`` described frames before ``at`` against those from it."""
    return float(look_changes(descriptors[at - window : at + window], window)[0])


def _piece(track: Track, start: int, stop: int, track_id: int) -> Track:
    """Positions [start, stop) of a track, as a track of its own."""
    window = slice(start, stop)

    def cut(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values[window]

    return replace(track, id=track_id, frames=track.frames[window], keypoints=track.keypoints[window],
                   boxes=track.boxes[window], observed=track.observed[window], scores=track.scores[window],
                   world_landmarks=cut(track.world_landmarks), detections=cut(track.detections),
                   appearance=cut(track.appearance))  # fmt: skip


def _cuts(track: Track, window: int, max_change: float) -> list[int]:
    """Positions in the track where a new person starts, found largest change first, recursively."""
    if track.appearance is None:
        return []
    described = np.flatnonzero(track.observed & ~np.isnan(track.appearance).any(axis=1))
    if len(described) < 2 * window:
        return []
    changes = look_changes(track.appearance[described].astype(np.float64), window)
    best = int(np.argmax(changes))
    if changes[best] <= max_change:
        return []
    at = window + best
    last_before, first_after = int(described[at - 1]), int(described[at])
    head, tail = _piece(track, 0, last_before + 1, track.id), _piece(track, first_after, len(track.frames), track.id)
    return [*_cuts(head, window, max_change), first_after, *(first_after + c for c in _cuts(tail, window, max_change))]


def split_at_look_changes(tracks: list[Track], fps: float, settings: LookChangeSettings | None = None) -> list[Track]:
    """The tracks with every one cut where its person's clothes change; later pieces get new ids.

    New ids follow every existing one, handed out in id order, so the same tracks give the same ids.
    """
    settings = settings or LookChangeSettings()
    window = max(2, round(settings.window_s * fps))
    next_id = max((t.id for t in tracks), default=0) + 1
    out: dict[int, list[Track]] = {}
    for index in sorted(range(len(tracks)), key=lambda i: tracks[i].id):
        track = tracks[index]
        cuts = _cuts(track, window, settings.max_change)
        if not cuts:
            out[index] = [track]
            continue
        pieces = []
        for number, (start, stop) in enumerate(zip([0, *cuts], [*cuts, len(track.frames)], strict=True)):
            seen = np.flatnonzero(track.observed[start:stop])
            pieces.append(_piece(track, start, start + int(seen[-1]) + 1, track.id if number == 0 else next_id))
            next_id += number > 0
        out[index] = pieces
    return [piece for index in range(len(tracks)) for piece in out[index]]
