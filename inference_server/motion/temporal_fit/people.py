"""The temporal fit as a pipeline step: cleaned-up people in, fitted people (and their new contacts) out.

The clean-up chain's output is the start, the per-frame estimator's own answer and the 2D keypoints are
the evidence. People are fitted in batches (``batches``: padding and each batch's fixed cost weighed), each at once;
after a first pass the floor is refitted to the fitted feet and the contacts re-estimated from the fitted
motion (height above the floor and the fitted foot's speed, steadier now than the image's), and a second
pass fits them. On the CPU the batches run side by side in worker processes, one per core (``workers``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.legs import true_runs
from crowdmocap_addon.core.result.schema import (
    QUALITY_FILLED,
    QUALITY_OBSERVED,
    QUALITY_REPAIRED,
    CapturedPerson,
    GroundPlane,
    PinholeCamera,
)

from ...estimators.person_motion import PersonMotion
from ...pipeline.progress import PipelineError
from ..contacts import foot_contact
from ..floor import fit_ground, lowest_foot_points
from .fit import FitSettings, FittedMotion, PersonEvidence, fit_people
from .workers import Workers, batch_cost, fit_workers, spread

# Person-frames fitted together at most (padding included): bounds memory (a person-frame holds the
# autograd graph of 24 joints, about 40 kB) on long clips with many people.
MAX_BATCH_PERSON_FRAMES = 20_000
# What one more batch costs, in padded person-frames: an evaluation of the energy takes about 5 ms
# whatever its size plus 13-20 us per person-frame (measured on this 2-core CPU, 1 x 18 to 18 x 88),
# so on short clips a few hundred frames of padding are cheaper than a batch of their own.
BATCH_OVERHEAD_PERSON_FRAMES = 300


def batches(lengths: Sequence[int], budget: int = MAX_BATCH_PERSON_FRAMES,
            overhead: int = BATCH_OVERHEAD_PERSON_FRAMES) -> list[list[int]]:  # fmt: skip
    """Indices grouped so the fit costs least: each batch costs ``overhead`` plus its people times its
    longest length (padding is work too), and people x longest length stays within ``budget``.

    Sorted by length, the best groups are runs of neighbours, so the exact optimum is a shortest path
    over the sorted order (quadratic in the people: a few milliseconds for hundreds).
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    longest = [lengths[i] for i in order]
    cost, cut = [0.0] + [float("inf")] * len(order), [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):  # the best grouping of the first ``end`` people
        for start in range(end - 1, -1, -1):  # the last batch is order[start:end], its longest first
            size = (end - start) * longest[start]
            if size > budget and end - start > 1:
                break  # longer runs only grow
            if cost[start] + overhead + size < cost[end]:
                cost[end], cut[end] = cost[start] + overhead + size, start
    groups, end = [], len(order)
    while end > 0:
        groups.append(order[cut[end] : end])
        end = cut[end]
    return groups[::-1]


def _evidence(person: CapturedPerson, estimate: PersonMotion) -> PersonEvidence:
    return PersonEvidence(
        rest_joints=person.rest_joints, global_orient=person.global_orient, body_pose=person.body_pose,
        transl=person.transl, estimator_orient=estimate.global_orient, estimator_pose=estimate.body_pose,
        confidence=np.clip(estimate.confidence, 0.0, 1.0), keypoints=person.keypoints2d,
        contact=person.foot_contact,
    )  # fmt: skip


def _fit_all(evidence: list[PersonEvidence], camera: PinholeCamera, ground: GroundPlane | None, *, fps: float,
             settings: FitSettings, check: Callable[[], None], workers: Workers) -> list[FittedMotion]:  # fmt: skip
    """Everyone fitted, batch by batch, here or in the workers' processes (the memory budget shared among them)."""
    lengths = [e.frames for e in evidence]
    groups = spread(batches(lengths, MAX_BATCH_PERSON_FRAMES // workers.count), lengths, workers.count,
                    BATCH_OVERHEAD_PERSON_FRAMES)  # fmt: skip
    fitted: list[FittedMotion | None] = [None] * len(evidence)

    def keep(group: Sequence[int], motions: Sequence[FittedMotion]) -> None:
        for index, motion in zip(group, motions, strict=True):
            fitted[index] = _sound(motion, evidence[index])

    if workers.pool is None:
        for group in groups:
            check()  # a long clip's batches take a while: cancelling is honoured between them
            keep(group, fit_people([evidence[i] for i in group], camera, ground, fps, settings))
    else:
        groups.sort(key=lambda g: -batch_cost(g, lengths, BATCH_OVERHEAD_PERSON_FRAMES))  # the longest first
        running = {workers.pool.submit(fit_people, [evidence[i] for i in g], camera, ground, fps, settings): g
                   for g in groups}  # fmt: skip
        for done in as_completed(running):
            check()
            try:
                keep(running[done], done.result())
            except BrokenProcessPool as exc:  # its native code crashed, or the system killed it for memory
                cause = "a process fitting the people's motion stopped abruptly (out of memory, or killed)"
                advice = "capture without the fit: temporal_fit off, --no-temporal-fit"
                raise PipelineError("motion", f"{cause}; {advice}") from exc
    return [m for m in fitted if m is not None]


def fit_captured(
    people: Sequence[CapturedPerson],
    estimates: Sequence[PersonMotion],
    camera: PinholeCamera,
    ground: GroundPlane | None,
    *,
    fps: float,
    settings: FitSettings | None = None,
    check: Callable[[], None] = lambda: None,
) -> tuple[list[CapturedPerson], GroundPlane | None]:
    """Each cleaned-up person refitted over their whole motion, and the floor refitted under them.

    The floor the clean-up found stands on per-frame estimates whose depth is off by 10-20 %, and a fit
    held to it keeps that error. So the first pass has no floor (each person placed by their known size
    and the 2D evidence, smoothly); the floor is fitted to those feet (the clean-up's is kept if that
    fails), contacts are re-estimated from the fitted motion, and the second pass fits with both.
    """
    settings = settings or FitSettings()
    evidence = [_evidence(p, e) for p, e in zip(people, estimates, strict=True)]
    with fit_workers(len(evidence), settings) as workers:
        return _fit_twice(people, evidence, camera, ground, fps=fps, settings=settings, check=check, workers=workers)


def _fit_twice(people: Sequence[CapturedPerson], evidence: list[PersonEvidence], camera: PinholeCamera,
               ground: GroundPlane | None, *, fps: float, settings: FitSettings, check: Callable[[], None],
               workers: Workers) -> tuple[list[CapturedPerson], GroundPlane | None]:  # fmt: skip
    # no floor yet: depths from body size and the 2D evidence alone
    first = _fit_all(evidence, camera, None, fps=fps, settings=settings, check=check, workers=workers)
    joints = [_joints(p, m) for p, m in zip(people, first, strict=True)]
    refitted = fit_ground(np.concatenate([lowest_foot_points(j) for j in joints]))  # also where the chain found none
    ground = refitted.plane if refitted is not None else ground
    again = [replace(e, global_orient=m.global_orient, body_pose=m.body_pose, transl=m.transl,
                     contact=foot_contact(j, fps, ground))
             for e, m, j in zip(evidence, first, joints, strict=True)]  # fmt: skip
    second = _fit_all(again, camera, ground, fps=fps, settings=settings, check=check, workers=workers)
    fitted = [replace(p, global_orient=m.global_orient, body_pose=m.body_pose, transl=m.transl,
                      foot_contact=np.clip(foot_contact(_joints(p, m), fps, ground), 0.0, 1.0),
                      quality=frame_quality(e.confidence, m, settings.repaired_error))
              for p, m, e in zip(people, second, evidence, strict=True)]  # fmt: skip
    return cut_unexplained(fitted, round(settings.unexplained_s * fps)), ground


def _sound(motion: FittedMotion, start: PersonEvidence, max_distance_m: float = 1e3) -> FittedMotion:
    """The fitted motion if it is finite and within a kilometre of the camera, else where the fit started.

    A diverged fit (possible for a person with almost no evidence) keeps the chain's motion instead of
    breaking the floor fit, the contacts or the result file for everyone.
    """
    values = (motion.global_orient, motion.body_pose, motion.transl)
    if all(np.isfinite(v).all() for v in values) and np.abs(motion.transl).max() <= max_distance_m:
        return motion
    return replace(motion, global_orient=start.global_orient, body_pose=start.body_pose, transl=start.transl,
                   reprojection_px=np.full(start.frames, np.nan))  # fmt: skip


def cut_unexplained(people: Sequence[CapturedPerson], min_run: int) -> list[CapturedPerson]:
    """People with every run of at least ``min_run`` repaired frames cut out.

    A second or more that the fit had to move far from what was seen is not a person the evidence
    explains (in crowd footage, mostly a track that jumped onto someone else): it is dropped, not kept as
    motion. A cut at an end trims the track; one inside splits it, the later piece becoming a new person
    (a new id after every existing one). Pieces shorter than ``min_run`` frames are dropped too.
    """
    next_id = max((int(p.id) for p in people), default=0) + 1
    pieces: dict[int, list[CapturedPerson]] = {}
    for index in sorted(range(len(people)), key=lambda i: int(people[i].id)):  # new ids by id, not input order
        person = people[index]
        cuts = [run for run in true_runs(person.frame_quality == QUALITY_REPAIRED) if run[1] - run[0] + 1 >= min_run]
        if not cuts:
            pieces[index] = [person]
            continue
        edges = [-1, *[edge for run in cuts for edge in run], person.num_frames]
        spans = [(edges[i] + 1, edges[i + 1]) for i in range(0, len(edges), 2)]  # [start, stop) between the cuts
        kept = [(a, b) for a, b in spans if b - a >= max(min_run, 1)]
        pieces[index] = []
        for number, (start, stop) in enumerate(kept):
            pieces[index].append(_piece(person, start, stop, int(person.id) if number == 0 else next_id))
            next_id += number > 0
    return [piece for index in range(len(people)) for piece in pieces[index]]


def _piece(person: CapturedPerson, start: int, stop: int, person_id: int) -> CapturedPerson:
    """Frames [start, stop) of a person, as a person of their own."""
    window = slice(start, stop)
    return replace(person, id=person_id, frames=person.frames[window], global_orient=person.global_orient[window],
                   body_pose=person.body_pose[window], transl=person.transl[window],
                   keypoints2d=person.keypoints2d[window], bbox=person.bbox[window],
                   confidence=person.confidence[window], foot_contact=person.foot_contact[window],
                   quality=person.frame_quality[window])  # fmt: skip


def frame_quality(confidence: np.ndarray, motion: FittedMotion, repaired_error: float) -> np.ndarray:
    """(T,) result quality codes: filled where nothing was seen, repaired where the fit left the evidence."""
    error = motion.reprojection_px / motion.body_height_px
    repaired = np.nan_to_num(error, nan=0.0) > repaired_error
    codes = np.where(repaired, QUALITY_REPAIRED, QUALITY_OBSERVED)
    return np.where(np.asarray(confidence) > 0, codes, QUALITY_FILLED).astype(np.uint8)


def _joints(person: CapturedPerson, motion: FittedMotion) -> np.ndarray:
    return forward_kinematics(person.rest_joints, motion.global_orient, motion.body_pose, motion.transl).joints
