"""A person's motion as it lives in the scene, and the clean-up edits on it (pure NumPy, no bpy).

``PersonMotion`` holds exactly what an armature's action keys, in armature space and scene frames: the
24 bone quaternions, the pelvis location, and the per-frame properties (confidence, foot contacts,
quality, implausibility). The importer builds one from a result; the People tools read one back from the
scene, edit it here and write it again, so an edited person is keyed exactly like an imported one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.geometry import sign_continuous, smoothstep
from ..core.result.schema import QUALITY_FILLED, QUALITY_OBSERVED, QUALITY_REPAIRED

FLAG_KINDS = ("filled", "repaired", "implausible")
MAX_HANDOVER_FRAMES = 3  # frames two fragments of one person may share (in frame steps): the tracker's handover


class PersonEditError(ValueError):
    """An edit that would break a person (or two people) apart wrongly; the message says why."""


@dataclass(kw_only=True, frozen=True)
class PersonMotion:
    frames: np.ndarray  # (T,) int scene frames, strictly increasing
    rotations: np.ndarray  # (T, 24, 4) pose-bone quaternions (w, x, y, z), sign-continuous
    pelvis: np.ndarray  # (T, 3) pelvis pose-bone location: armature-space pelvis minus its rest head
    confidence: np.ndarray  # (T,) 0 where the frame was not observed
    contact: np.ndarray  # (T, 2) left/right foot contact probability
    quality: np.ndarray  # (T,) uint8 result quality codes (observed, filled, repaired)
    implausible: np.ndarray  # (T,) bool: sinking, floating or teleporting (core.plausibility)

    def __post_init__(self) -> None:
        count = len(self.frames)
        if count == 0:
            raise PersonEditError("a person needs at least one frame")
        if np.any(np.diff(self.frames) <= 0):
            raise PersonEditError("frames must strictly increase")
        for name in ("rotations", "pelvis", "confidence", "contact", "quality", "implausible"):
            if len(getattr(self, name)) != count:
                raise PersonEditError(f"{name} has {len(getattr(self, name))} frames, frames has {count}")

    @property
    def first(self) -> int:
        return int(self.frames[0])

    @property
    def last(self) -> int:
        return int(self.frames[-1])

    def flagged(self) -> np.ndarray:
        """(T,) bool: frames an animator should look at (not observed as they are, or physically implausible)."""
        return (np.asarray(self.quality) != QUALITY_OBSERVED) | np.asarray(self.implausible, dtype=bool)

    def flag_kinds(self) -> np.ndarray:
        """(T,) str: '' or the frame's worst flag (repaired before implausible before filled)."""
        quality = np.asarray(self.quality)
        kinds = np.full(len(self.frames), "", dtype=object)
        kinds[quality == QUALITY_FILLED] = "filled"
        kinds[np.asarray(self.implausible, dtype=bool)] = "implausible"
        kinds[quality == QUALITY_REPAIRED] = "repaired"
        return kinds

    def select(self, keep: np.ndarray) -> PersonMotion:
        """The frames where ``keep`` (a (T,) bool mask or index array) holds."""
        return replace(self, **{name: np.asarray(getattr(self, name))[keep] for name in _ARRAYS})


_ARRAYS = ("frames", "rotations", "pelvis", "confidence", "contact", "quality", "implausible")


@dataclass(kw_only=True, frozen=True)
class PersonSummary:
    """One row of the People list."""

    first: int  # scene frames
    last: int
    frames: int
    observed_share: float  # of the person's frames, observed as they are
    mean_confidence: float  # over observed frames (filled frames have none); 0 without any
    flagged: int  # frames flagged filled, repaired or implausible


def summarise(motion: PersonMotion) -> PersonSummary:
    observed = np.asarray(motion.quality) == QUALITY_OBSERVED
    confidence = np.asarray(motion.confidence, dtype=np.float64)
    return PersonSummary(
        first=motion.first,
        last=motion.last,
        frames=len(motion.frames),
        observed_share=float(observed.mean()),
        mean_confidence=float(confidence[observed].mean()) if observed.any() else 0.0,
        flagged=int(motion.flagged().sum()),
    )


@dataclass(kw_only=True, frozen=True)
class FlagRun:
    """Consecutive flagged frames of one kind, first to last (scene frames, inclusive)."""

    kind: str
    first: int
    last: int
    frames: int


def flag_runs(motion: PersonMotion) -> list[FlagRun]:
    kinds = motion.flag_kinds()
    runs: list[FlagRun] = []
    start = None
    for index, kind in enumerate(kinds):
        if start is not None and kind != kinds[start]:
            runs.append(FlagRun(kind=kinds[start], first=int(motion.frames[start]),
                                last=int(motion.frames[index - 1]), frames=index - start))  # fmt: skip
            start = None
        if start is None and kind:
            start = index
    if start is not None:
        runs.append(FlagRun(kind=kinds[start], first=int(motion.frames[start]), last=motion.last,
                            frames=len(kinds) - start))  # fmt: skip
    return runs


def next_flagged_frame(motion: PersonMotion, current: int, forward: bool = True) -> int | None:
    """The first frame of the next (or previous) flagged run: one jump per run, not per frame."""
    starts = [run.first for run in flag_runs(motion)]
    if forward:
        return next((start for start in starts if start > current), None)
    return next((start for start in reversed(starts) if start < current), None)


def frame_step(motion: PersonMotion) -> int:
    """The person's usual spacing of frames (the capture's stride): the median step, at least 1."""
    if len(motion.frames) < 2:
        return 1
    return max(1, int(np.median(np.diff(motion.frames))))


def split(motion: PersonMotion, frame: int) -> tuple[PersonMotion, PersonMotion]:
    """Before ``frame`` and from ``frame`` on; both parts must keep at least one frame."""
    frames = np.asarray(motion.frames)
    before = frames < frame
    if not before.any() or before.all():
        raise PersonEditError(
            f"split at frame {frame} would leave one part empty: the person spans frames {motion.first}–{motion.last}"
        )
    return motion.select(before), motion.select(~before)


def _bridge_rotations(start: np.ndarray, end: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(24, 4), (24, 4), (G,) -> (G, 24, 4): normalised blend along the shorter way round each joint."""
    end = np.where(np.sum(start * end, axis=-1, keepdims=True) < 0, -end, end)
    blend = start[None] * (1 - weights[:, None, None]) + end[None] * weights[:, None, None]
    return blend / np.linalg.norm(blend, axis=-1, keepdims=True)


def _velocity(frames: np.ndarray, values: np.ndarray, at_end: bool) -> np.ndarray:
    """Per-frame velocity at one end of a stretch, from its last (or first) two frames; zero with one."""
    if len(frames) < 2:
        return np.zeros(values.shape[1:])
    if at_end:
        return (values[-1] - values[-2]) / (frames[-1] - frames[-2])
    return (values[1] - values[0]) / (frames[1] - frames[0])


def _hermite(ends: tuple[np.ndarray, np.ndarray], velocities: tuple[np.ndarray, np.ndarray], span: float,
             s: np.ndarray) -> np.ndarray:  # fmt: skip
    """Cubic Hermite between ``ends`` with per-frame ``velocities`` over ``span`` frames at fractions ``s``."""
    (p0, p1), (v0, v1) = ends, velocities
    s = s[:, None]
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * p0 + h10 * span * v0 + h01 * p1 + h11 * span * v1


def merge(earlier: PersonMotion, later: PersonMotion, later_offset: np.ndarray | None = None) -> PersonMotion:
    """One person from two fragments: ``earlier`` up to where ``later`` starts, then ``later``.

    ``later_offset`` (3,) is added to the later fragment's pelvis locations: the difference of the two
    armatures' rest pelvis heads, so the pelvis stays where it was in the world. A gap between them is
    bridged at the fragments' frame step: the pelvis on a cubic through both ends' velocities (a walker
    walks on), every joint blended with an eased weight; the bridge is flagged filled, confidence 0.
    Up to MAX_HANDOVER_FRAMES frames where both were keyed (the tracker's handover) are taken from
    ``later``; more, and they are two people seen at the same time (PersonEditError).
    """
    if later.first < earlier.first:
        earlier, later = later, earlier
        later_offset = None if later_offset is None else -np.asarray(later_offset)
    if later.last <= earlier.last:
        raise PersonEditError(
            f"frames {later.first}–{later.last} lie inside {earlier.first}–{earlier.last}: both are seen at the "
            "same time, so they are two people"
        )
    shared = np.asarray(earlier.frames)[np.asarray(earlier.frames) >= later.first]
    if len(shared) > MAX_HANDOVER_FRAMES:
        raise PersonEditError(
            f"both seen on frames {int(shared[0])}–{int(shared[-1])} ({len(shared)} frames): they are two people "
            "(if the tracker swapped them there, split each at the swap first)"
        )
    offset = np.zeros(3) if later_offset is None else np.asarray(later_offset, dtype=np.float64)
    later = replace(later, pelvis=np.asarray(later.pelvis) + offset)
    kept = np.asarray(earlier.frames) < later.first
    if not kept.any():
        raise PersonEditError("the two start on the same frame: they are two people")
    head = earlier.select(kept)
    step = min(frame_step(head), frame_step(later))
    gap = np.arange(head.last + step, later.first, step, dtype=np.int64)
    parts = [head]
    if len(gap):
        span = float(later.first - head.last)
        s = (gap - head.last) / span
        ends = (np.asarray(head.pelvis[-1]), np.asarray(later.pelvis[0]))
        velocities = (_velocity(head.frames, head.pelvis, True), _velocity(later.frames, later.pelvis, False))
        pelvis = _hermite(ends, velocities, span, s)
        parts.append(PersonMotion(
            frames=gap,
            rotations=_bridge_rotations(np.asarray(head.rotations[-1]), np.asarray(later.rotations[0]), smoothstep(s)),
            pelvis=pelvis,
            confidence=np.zeros(len(gap)),
            contact=np.zeros((len(gap), 2)),
            quality=np.full(len(gap), QUALITY_FILLED, dtype=np.uint8),
            implausible=np.zeros(len(gap), dtype=bool),
        ))  # fmt: skip
    parts.append(later)
    joined = {name: np.concatenate([np.asarray(getattr(p, name)) for p in parts]) for name in _ARRAYS}
    joined["rotations"] = sign_continuous(joined["rotations"])
    return PersonMotion(**joined)
