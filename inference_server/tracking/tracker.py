"""Multi-person tracking: Hungarian assignment on OKS + IoU with constant-velocity prediction.

Each frame, every live track predicts where its person is now (last position plus velocity times the
frames elapsed), and detections are assigned to tracks by ``scipy.optimize.linear_sum_assignment`` on
1 - similarity. A track that finds nobody is kept "lost" for ``max_lost`` processed frames, during which
it can re-attach (occlusions); after that it ends. ``finish`` fills short gaps by interpolation (flagged
with confidence 0), splits tracks at longer gaps, and drops tracks shorter than ``min_length``. Each
track remembers which detection of each frame it took (``Track.detections``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..poses2d.boxes import box_iou
from ..poses2d.types import FramePoses, PersonPose
from .similarity import keypoint_similarity

NOT_OBSERVED = -1  # ``Track.detections`` where the frame was filled in


@dataclass(kw_only=True, frozen=True)
class TrackerSettings:
    oks_weight: float = 0.6  # similarity = w * OKS + (1 - w) * IoU
    min_similarity: float = 0.2  # below this a detection never joins a track
    max_lost: int = 30  # processed frames a track survives unseen (occlusion buffer)
    min_length: int = 10  # observed frames a track needs to be kept
    max_gap: int = 15  # gaps up to this many processed frames are interpolated; longer ones split the track
    min_new_score: float = 0.3  # detection score needed to start a new track
    velocity_smoothing: float = 0.5  # exponential smoothing of the per-frame velocity
    region_max_lost: int = 2  # tracks unseen for at most this many frames still say where to look next


@dataclass
class _Observation:
    frame: int  # frame index
    step: int  # processed-frame counter (frame order, independent of stride)
    person: PersonPose
    detection: int  # position of ``person`` in that frame's ``FramePoses.people``


@dataclass
class _LiveTrack:
    id: int
    observations: list[_Observation] = field(default_factory=list)
    velocity: np.ndarray = field(default_factory=lambda: np.zeros((17, 2)))  # pixels per processed frame
    lost: int = 0

    def predicted(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        last = self.observations[-1]
        shift = self.velocity * (step - last.step)  # (17, 2)
        keypoints = last.person.keypoints.copy()
        keypoints[:, :2] += shift
        valid = last.person.keypoints[:, 2] > 0.1
        centre_shift = shift[valid].mean(axis=0) if valid.any() else np.zeros(2)
        return keypoints, last.person.box + np.tile(centre_shift, 2)

    def update(self, observation: _Observation, smoothing: float) -> None:
        step, person = observation.step, observation.person
        if self.observations:
            last = self.observations[-1]
            valid = (last.person.keypoints[:, 2] > 0.1) & (person.keypoints[:, 2] > 0.1)
            instant = np.zeros((17, 2))
            instant[valid] = (person.keypoints[valid, :2] - last.person.keypoints[valid, :2]) / (step - last.step)
            self.velocity = smoothing * self.velocity + (1 - smoothing) * instant
        self.observations.append(observation)
        self.lost = 0


@dataclass(kw_only=True, frozen=True)
class Track:
    """One person's 2D track over T frames (gaps filled, see ``observed``)."""

    id: int
    frames: np.ndarray  # (T,) frame indices
    keypoints: np.ndarray  # (T, 17, 3)
    boxes: np.ndarray  # (T, 4)
    observed: np.ndarray  # (T,) bool: False where the frame was interpolated
    scores: np.ndarray  # (T,) detection score, 0 where interpolated
    world_landmarks: np.ndarray | None  # (T, 33, 3) when the backend gave them (interpolated like keypoints)
    # (T,) int: where in its frame's people each observation was (NOT_OBSERVED where filled in), so later
    # stages join per-detection results (3DCrowdNet's) by identity, not by comparing keypoints.
    # None for a track not built by the tracker.
    detections: np.ndarray | None = field(default=None, kw_only=True)
    # (T, D) appearance descriptors (tracking/appearance.py), NaN rows where not described; None if never.
    appearance: np.ndarray | None = field(default=None, kw_only=True)

    @property
    def confidence(self) -> float:
        """Mean detection score over the observed frames: how much to trust this track."""
        return float(self.scores[self.observed].mean()) if self.observed.any() else 0.0


class Tracker:
    """Feed frames in order with ``update``; ``finish`` returns the tracks."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._live: list[_LiveTrack] = []
        self._ended: list[_LiveTrack] = []
        self._next_id = 1
        self._step = -1
        self._frame_steps: list[int] = []  # frame index of every processed frame, in order

    def _similarity(self, tracks: list[_LiveTrack], people: list[PersonPose]) -> np.ndarray:
        predicted = [track.predicted(self._step) for track in tracks]
        kp_t = np.stack([p[0] for p in predicted])
        box_t = np.stack([p[1] for p in predicted])
        kp_d = np.stack([p.keypoints for p in people])
        box_d = np.stack([p.box for p in people])
        w = self.settings.oks_weight
        return w * keypoint_similarity(kp_t, kp_d, box_t) + (1 - w) * box_iou(box_t, box_d)

    def _observation(self, poses: FramePoses, detection: int) -> _Observation:
        return _Observation(poses.index, self._step, poses.people[detection], int(detection))

    def expected_regions(self) -> np.ndarray:
        """(N, 4) where the recently seen tracks' people should be in the next frame: for top-down backends."""
        recent = [t for t in self._live if t.lost <= self.settings.region_max_lost]
        if not recent:
            return np.zeros((0, 4))
        return np.stack([track.predicted(self._step + 1)[1] for track in recent])

    def update(self, poses: FramePoses) -> dict[int, int]:
        """Assign this frame's people to tracks; returns {person index in frame: track id}."""
        self._step += 1
        self._frame_steps.append(poses.index)
        people, assigned = poses.people, {}
        matched_tracks: set[int] = set()
        if self._live and people:
            similarity = self._similarity(self._live, people)
            rows, cols = linear_sum_assignment(1.0 - similarity)
            for row, col in zip(rows, cols, strict=True):
                if similarity[row, col] >= self.settings.min_similarity:
                    self._live[row].update(self._observation(poses, col), self.settings.velocity_smoothing)
                    assigned[int(col)] = self._live[row].id
                    matched_tracks.add(row)
        for col, person in enumerate(people):
            if col not in assigned and person.score >= self.settings.min_new_score:
                track = _LiveTrack(self._next_id)
                self._next_id += 1
                track.update(self._observation(poses, col), self.settings.velocity_smoothing)
                self._live.append(track)
                assigned[col] = track.id
                matched_tracks.add(len(self._live) - 1)
        still_live = []
        for row, track in enumerate(self._live):
            if row not in matched_tracks:
                track.lost += 1
            (still_live if track.lost <= self.settings.max_lost else self._ended).append(track)
        self._live = still_live
        return assigned

    @property
    def processed_frames(self) -> np.ndarray:
        """Every frame index the tracker was given, in order (what fills a gap between fragments)."""
        return np.array(self._frame_steps, dtype=np.int64)

    def finish(self, min_length: int | None = None) -> list[Track]:
        """All tracks, gap-filled and split, too-short ones dropped, ordered by first appearance.

        ``min_length`` (default: the settings') counts observed frames; re-linking asks for every fragment
        (1) and applies the length after joining. A track split at a long gap keeps its id for the first
        kept segment; later segments get new ids.
        """
        shortest = self.settings.min_length if min_length is None else min_length
        tracks: list[Track] = []
        next_id = self._next_id
        for live in sorted(self._ended + self._live, key=lambda t: t.observations[0].step):
            kept = [s for s in _split(live.observations, self.settings.max_gap) if len(s) >= shortest]
            for number, segment in enumerate(kept):
                track_id = live.id if number == 0 else next_id
                next_id += number > 0
                tracks.append(_filled(track_id, segment, self._frame_steps))
        return tracks

    def run(self, frames: Iterable[FramePoses]) -> list[Track]:
        for poses in frames:
            self.update(poses)
        return self.finish()


def _split(observations: list[_Observation], max_gap: int) -> list[list[_Observation]]:
    segments = [[observations[0]]]
    for previous, current in itertools.pairwise(observations):
        if current.step - previous.step - 1 > max_gap:
            segments.append([])
        segments[-1].append(current)
    return segments


def _filled(track_id: int, segment: list[_Observation], frame_steps: list[int]) -> Track:
    """Interpolate every processed frame between the segment's first and last observation."""
    steps = np.arange(segment[0].step, segment[-1].step + 1)
    seen_steps = np.array([o.step for o in segment])
    observed = np.isin(steps, seen_steps)

    def interp(values: np.ndarray) -> np.ndarray:  # (S, ...) at seen_steps -> (T, ...)
        flat = values.reshape(len(values), -1)
        out = np.stack([np.interp(steps, seen_steps, flat[:, i]) for i in range(flat.shape[1])], axis=1)
        return out.reshape(len(steps), *values.shape[1:])

    keypoints = interp(np.stack([o.person.keypoints for o in segment]))
    keypoints[~observed, :, 2] = 0.0  # filled in, not observed
    world = [o.person.world_landmarks for o in segment]
    detections = np.full(len(steps), NOT_OBSERVED)
    detections[observed] = [o.detection for o in segment]
    looks = [o.person.appearance for o in segment]
    appearance = None
    if any(a is not None for a in looks):
        size = next(len(a) for a in looks if a is not None)
        appearance = np.full((len(steps), size), np.nan, dtype=np.float32)
        appearance[observed] = [a if a is not None else np.full(size, np.nan) for a in looks]
    return Track(
        id=track_id,
        frames=np.array([frame_steps[s] for s in steps]),
        keypoints=keypoints,
        boxes=interp(np.stack([o.person.box for o in segment])),
        observed=observed,
        scores=np.where(observed, interp(np.array([o.person.score for o in segment])), 0.0),
        world_landmarks=interp(np.stack(world)) if all(w is not None for w in world) else None,
        detections=detections,
        appearance=appearance,
    )
