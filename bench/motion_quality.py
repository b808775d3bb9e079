"""Motion plausibility on the shared street clip: today's clean-up chain against the temporal fit, same run.

The embedded defaults (NanoDet-g + BlazePose's landmark network, tracking with re-linking, the lift) make
every person's per-frame estimate once; the motion stage then runs twice on the same estimates, with
``temporal_fit`` off and on, and each result is scored by ``crowdmocap_addon.core.plausibility`` (no ground
truth needed: sinking, floating, pelvis jumps, acceleration, foot skate, stance share, reprojection).

``--repeats N`` runs each motion stage N times on keypoints moved by 0.001 px of noise and prints the
mean and spread: the fit's optimum is flat enough that such noise moves single people, so one run is one
sample of the figures.

.venv/bin/python bench/motion_quality.py [--clip tests/data/vtest_first10s.avi] [--stop N] [--repeats N]
    [--set NAME=VALUE ...]   (a FitSettings field for the temporal fit's column, e.g. pose_knot_frames=0)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.temporal_fit import fit_settings  # noqa: E402
from crowdmocap_addon.core.plausibility import Plausibility, assess  # noqa: E402
from crowdmocap_addon.core.result.schema import CapturedPerson, CaptureResult  # noqa: E402
from inference_server.estimators.lift.people import lift_people  # noqa: E402
from inference_server.estimators.person_motion import PersonMotion  # noqa: E402
from inference_server.motion.clean_up import MotionSettings, finish_people  # noqa: E402
from inference_server.pipeline.backends import open_pose_backend  # noqa: E402
from inference_server.pipeline.options import CaptureOptions  # noqa: E402
from inference_server.pipeline.progress import CancelToken, StageMeter  # noqa: E402
from inference_server.pipeline.run import Captured, assemble, people_tracks, plan_capture  # noqa: E402
from inference_server.pipeline.stream import pose_and_track  # noqa: E402
from inference_server.tracking.tracker import Tracker, TrackerSettings  # noqa: E402

ROWS = (
    ("implausible person-frames %", lambda q: 100 * q.implausible),
    ("  sinking > 5 cm %", lambda q: None if q.sinking is None else 100 * q.sinking),
    ("  floating > 25 cm %", lambda q: None if q.floating is None else 100 * q.floating),
    ("  pelvis > 4 m/s %", lambda q: 100 * q.teleporting),
    ("peak pelvis speed m/s", lambda q: q.peak_pelvis_speed),
    ("median RMS joint acceleration m/s²", lambda q: q.median_rms_acceleration),
    ("foot skate during contacts cm/s", lambda q: None if q.foot_skate is None else 100 * q.foot_skate),
    ("stance share % of foot-frames", lambda q: 100 * q.stance_share),
    ("reprojection median px", lambda q: q.reprojection_px),
)


NOISE_PX = 0.001


def _cell(values: list[float | None]) -> str:
    """One figure, or its mean ± standard deviation over the repeats."""
    if any(v is None for v in values):
        return f"{'n/a':>16}"
    if len(values) == 1:
        return f"{values[0]:16.2f}"
    return f"{np.mean(values):9.2f} ± {np.std(values):4.2f}"


def _pelvis_spread(runs: list[list[CapturedPerson]]) -> str:
    """How far the runs put the same person: per person-frame, the largest distance from the runs' mean
    pelvis, over the people every run has with the same frames (median / 90th percentile / largest, cm)."""
    paths: dict[tuple[int, int, int], list[np.ndarray]] = {}
    for people in runs:
        for person in people:
            paths.setdefault((person.id, int(person.frames[0]), person.num_frames), []).append(person.transl)
    shared = [np.stack(p) for p in paths.values() if len(p) == len(runs)]
    if len(runs) < 2 or not shared:
        return f"{'n/a':>16}"
    gaps = np.concatenate([np.linalg.norm(p - p.mean(axis=0), axis=-1).max(axis=0) for p in shared]) * 100
    return f"{np.median(gaps):5.1f} /{np.percentile(gaps, 90):5.1f} /{gaps.max():5.0f}"


def _nudged(people: list[PersonMotion], seed: int) -> list[PersonMotion]:
    """The people with their keypoints moved by ``NOISE_PX`` of noise (seed 0: as they are)."""
    if seed == 0:
        return people
    rng = np.random.default_rng(seed)
    out = []
    for person in people:
        keypoints = person.track.keypoints.copy()
        keypoints[..., :2] += rng.normal(0.0, NOISE_PX, keypoints[..., :2].shape)
        out.append(replace(person, track=replace(person.track, keypoints=keypoints)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=REPO / "tests" / "data" / "vtest_first10s.avi")
    parser.add_argument("--stop", type=int)
    parser.add_argument("--repeats", type=int, default=1, help="runs per column, keypoints nudged by 0.001 px")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a FitSettings field")
    args = parser.parse_args()
    overrides = {name: float(value) for name, value in (item.split("=") for item in args.set)}
    options = CaptureOptions(stop=args.stop)
    plan = plan_capture(args.clip, options)
    tracker, cancel = Tracker(TrackerSettings(min_length=options.min_track_length)), CancelToken()
    backend = open_pose_backend(plan.models)
    try:
        frames = pose_and_track(plan.clip, plan.span, backend=backend, tracker=tracker,
                                meter=StageMeter("poses", plan.total, "frames", None), cancel=cancel,
                                tracked_regions=options.tracked_regions)  # fmt: skip
    finally:
        backend.close()
    fps = float(plan.clip.info.fps) / options.stride
    tracks = people_tracks(tracker, options, fps=fps)
    start = time.perf_counter()
    estimates = lift_people(tracks, None, plan.camera, StageMeter("lift", len(tracks), "people", None), cancel)
    lift_seconds = time.perf_counter() - start
    person_frames = sum(len(t.frames) for t in tracks)
    settings = MotionSettings(fps=fps, smoothing=options.smoothing, foot_lock=True)
    reports: dict[str, list[Plausibility]] = {}
    captured: dict[str, list[list[CapturedPerson]]] = {}
    timings: dict[str, float] = {}
    for label, fitted in (("clean-up chain", False), ("temporal fit", True)):
        reports[label], captured[label], start = [], [], time.perf_counter()
        for seed in range(args.repeats):
            chosen = replace(settings, temporal_fit=fitted)
            with fit_settings(**overrides):
                meter = StageMeter("motion", len(estimates), "people", None)
                people, ground = finish_people(_nudged(estimates, seed), plan.camera, chosen, meter, cancel)
            result: CaptureResult = assemble(plan, Captured(people=people, ground=ground, frames=frames,
                                                            body_kind="standin", warnings=[]))  # fmt: skip
            reports[label].append(assess(result))
            captured[label].append(people)
        timings[label] = (time.perf_counter() - start) / args.repeats
    print(f"{args.clip.name}: {frames} frames, {len(tracks)} people, {person_frames} person-frames")
    if args.repeats > 1:
        print(f"mean ± standard deviation over {args.repeats} runs (keypoints nudged by {NOISE_PX} px but the first)")
    print(f"{'':<38}" + "".join(f"{label:>17}" for label in reports))
    for name, value in ROWS:
        print(f"{name:<38}" + "".join(f" {_cell([value(q) for q in runs])}" for runs in reports.values()))
    print(f"{'people in the result':<38}"
          + "".join(f" {_cell([float(len(q.people)) for q in runs])}" for runs in reports.values()))  # fmt: skip
    print(f"{'pelvis spread over the runs cm':<38}" + "".join(f" {_pelvis_spread(runs)}" for runs in captured.values()))
    lift_ms = lift_seconds * 1000 / max(person_frames, 1)
    print(f"{'lift ms per person-frame':<38}" + "".join(f" {lift_ms:16.2f}" for _ in reports))
    print(f"{'motion stage ms per person-frame':<38}"
          + "".join(f" {timings[k] * 1000 / max(person_frames, 1):16.2f}" for k in reports))  # fmt: skip


if __name__ == "__main__":
    main()
