"""A long clip in overlapping segments: each segment's streaming pass and 3D estimates made on their own
(in parallel: ``inference_server/batch``), stitched into the clip's people, then one clean-up over the
whole clip, so the floor, the contacts and the whole-motion fit see everyone at once, as in one run.

Segment k covers frames ``[starts[k], starts[k] + length + overlap)`` (processed frames); the next begins
``length`` later, so neighbours share ``overlap`` frames. There both segments saw the same people from
the same detections: a person of one segment is the person of the next whose keypoints lie on theirs
(median under ``MATCH_PX`` over frames both observed), one to one, closest first. A matched pair becomes
one person: the earlier segment's frames up to the middle of the overlap, the later one's after it (each
estimate there had half the overlap of context on its far side); the later part keeps its pelvis in the
earlier part's body. Unmatched people stay people of their own.

Only clips whose camera stood still are cut: a moving camera's world is its first frame's camera, a
different one in every segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..estimators.person_motion import PersonMotion
from ..tracking.tracker import Track
from .backends import EstimatorFactory, PoseBackendFactory, open_crowdnet, open_pose_backend
from .options import CaptureOptions
from .progress import CancelToken, PipelineError, ProgressCallback
from .run import (
    CaptureSummary,
    Estimated,
    _Factories,
    assemble,
    estimate,
    finish,
    guarded,
    plan_capture,
    summary_of,
    write,
)

MATCH_PX = 8.0  # the same detections give ~0; two people side by side are tens of pixels apart
MOVING_CAMERA = "capture it in one piece"  # in the error of a segment whose camera moved


def segment_ranges(start: int, stop: int, stride: int, length: int, overlap: int) -> list[tuple[int, int]]:
    """[start, stop) video-frame ranges of the segments of frames ``start, start + stride, ... < stop``;
    ``length`` and ``overlap`` count processed frames. One range when the clip fits in one segment."""
    if length < 1 or overlap < 0:
        raise ValueError(f"a segment needs at least 1 frame and an overlap of at least 0, got {length}, {overlap}")
    frames = range(start, stop, stride)
    if len(frames) <= length + overlap:
        return [(start, stop)]
    ranges, first = [], 0
    while True:
        last = min(first + length + overlap, len(frames))
        ranges.append((frames[first], frames[last - 1] + 1))
        if last == len(frames):
            return ranges
        first += length


def estimate_segment(footage: str | Path, options: CaptureOptions, *, whole: bool = False,
                     cancel: CancelToken | None = None, pose_backend_factory: PoseBackendFactory = open_pose_backend,
                     estimator_factory: EstimatorFactory = open_crowdnet) -> Estimated:  # fmt: skip
    """One segment's people (``options.start``/``stop`` are the segment's), not yet cleaned up.

    ``whole``: the segment is the whole clip, whose camera may move (a cut segment's may not: it raises).
    """
    plan = plan_capture(footage, options)
    factories = _Factories(pose_backend_factory, estimator_factory)
    estimated = guarded(plan, lambda: estimate(plan, factories, None, cancel or CancelToken()))
    if estimated.camera is not None and not whole:
        raise PipelineError("estimate", f"the camera moves in this clip: {MOVING_CAMERA} (segments are cut only "
                            "from clips whose camera stands still)")  # fmt: skip
    return estimated


def finish_segments(footage: str | Path, output: str | Path, options: CaptureOptions, parts: Sequence[Estimated],
                    ranges: Sequence[tuple[int, int | None]], *, fit_device: str | None = None,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                    footage_name: str | None = None) -> CaptureSummary:  # fmt: skip
    """The clip's result from its segments' estimates: stitched, cleaned up once, written to ``output``
    (``fit_device``: ``finish``'s). One segment over the whole clip is the capture ``run_capture`` makes."""
    cancel = cancel or CancelToken()
    plan = plan_capture(footage, options)
    stitched = stitch(parts, ranges, options.stride)
    captured = guarded(plan, lambda: finish(plan, stitched, progress, cancel, fit_device=fit_device))
    result_path, _ = write(plan, captured, assemble(plan, captured, footage_name), output, preview=None,
                           progress=progress, cancel=cancel)  # fmt: skip
    return summary_of(plan, captured, result_path, None)


def _distance(earlier: Track, later: Track) -> float:
    """Median pixel distance of two tracks' keypoints over the frames both observed; inf when there are none."""
    _, mine, theirs = np.intersect1d(earlier.frames, later.frames, return_indices=True)
    seen = earlier.observed[mine] & later.observed[theirs]
    if not seen.any():
        return float("inf")
    a, b = earlier.keypoints[mine[seen]], later.keypoints[theirs[seen]]
    both = (a[..., 2] > 0) & (b[..., 2] > 0)
    return float(np.median(np.linalg.norm(a[..., :2] - b[..., :2], axis=-1)[both])) if both.any() else float("inf")


def _matches(earlier: Sequence[PersonMotion], later: Sequence[PersonMotion]) -> dict[int, int]:
    """Later person index -> earlier person index, one to one, closest first, under MATCH_PX."""
    pairs = sorted((_distance(a.track, b.track), i, j) for i, a in enumerate(earlier) for j, b in enumerate(later))
    used_earlier, used_later, out = set(), set(), {}
    for distance, i, j in pairs:
        if distance < MATCH_PX and i not in used_earlier and j not in used_later:
            out[j] = i
            used_earlier.add(i)
            used_later.add(j)
    return out


_TRACK_ARRAYS = ("frames", "keypoints", "boxes", "observed", "scores", "world_landmarks", "detections", "appearance")


def _joined(earlier: PersonMotion, later: PersonMotion, cut: int) -> PersonMotion:
    """``earlier`` before video frame ``cut``, ``later`` from it on, in the earlier one's body."""
    head, tail = earlier.track.frames < cut, later.track.frames >= cut
    arrays = {}
    for name in _TRACK_ARRAYS:  # an optional array (landmarks, appearance) is kept only if both tracks have it
        first, second = getattr(earlier.track, name), getattr(later.track, name)
        arrays[name] = None if first is None or second is None else np.concatenate([first[head], second[tail]])
    track = replace(earlier.track, **arrays)
    pelvis_shift = later.rest_joints[0] - earlier.rest_joints[0]  # the same pelvis in the other skeleton
    return replace(earlier, track=track,
                   global_orient=np.concatenate([earlier.global_orient[head], later.global_orient[tail]]),
                   body_pose=np.concatenate([earlier.body_pose[head], later.body_pose[tail]]),
                   transl=np.concatenate([earlier.transl[head], later.transl[tail] + pelvis_shift]),
                   confidence=np.concatenate([earlier.confidence[head], later.confidence[tail]]))  # fmt: skip


def stitch(parts: Sequence[Estimated], ranges: Sequence[tuple[int, int | None]], stride: int = 1) -> Estimated:
    """One clip's estimates from its segments' (in order, ``ranges`` as captured, every ``stride``-th frame;
    a lone part is the clip, its stop None when the clip's was)."""
    if not parts or len(parts) != len(ranges):
        raise ValueError("one estimate per segment range is needed")
    if len(parts) == 1:  # nothing to stitch (and the one piece may carry a moving camera)
        return parts[0]
    people = list(parts[0].people)
    live = list(range(len(people)))  # the previous segment's people, as indices into ``people``
    next_id = max((int(p.track.id) for part in parts for p in part.people), default=0) + 1
    for k in range(1, len(parts)):
        cut = (ranges[k][0] + ranges[k - 1][1]) // 2  # the middle of the overlap
        linked = _matches([people[i] for i in live], parts[k].people)
        now = []
        for j, person in enumerate(parts[k].people):
            if j in linked:
                index = live[linked[j]]
                people[index] = _joined(people[index], person, cut)
            else:  # someone the earlier segment did not keep: a person of their own, a new id
                people.append(replace(person, track=replace(person.track, id=next_id)))
                next_id += 1
                index = len(people) - 1
            now.append(index)
        live = now
    warnings = [w for part in parts for w in part.warnings]
    shared = sum(len(range(ranges[k][0], ranges[k - 1][1], stride)) for k in range(1, len(ranges)))  # overlaps
    return Estimated(people=people, frames=sum(p.frames for p in parts) - shared, body_kind=parts[0].body_kind,
                     warnings=list(dict.fromkeys(warnings)), camera=None)  # fmt: skip
