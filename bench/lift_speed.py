"""The weights-free lift's speed: one frame at a time (what callers did before batching) against whole tracks.

Synthetic people (walkers, standers and turners in turn, ``tests/helpers/synthetic_motion.py``) are rendered as
BlazePose world landmarks with landmark noise and observed as COCO keypoints; the lift then solves every frame's
pose and translation twice in the same run: a frame at a time (``solve_frame`` + ``solve_translation`` in a
loop, the one-frame views of the batched code) and a track at a time (``solve_frames`` + ``solve_translations``).
Prints the best of ``--repeats`` in ms per person-frame and the largest difference between the two.

.venv/bin/python bench/lift_speed.py [--people 1] [--frames 300] [--noise 0.02] [--repeats 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS  # noqa: E402
from inference_server.estimators.lift.solve import (  # noqa: E402
    solve_frame,
    solve_frames,
    solve_translation,
    solve_translations,
)
from tests.helpers import synthetic_motion as synthetic  # noqa: E402
from tests.helpers.synthetic_motion import CAMERA, observe  # noqa: E402
from tests.inference_server.estimators.lift.test_solve import _landmarks  # noqa: E402

REST = np.asarray(STANDIN_REST_JOINTS)


def tracks(people: int, frames: int, noise: float, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per person: (T, 33, 3) noisy world landmarks and (T, 17, 3) keypoints."""
    out = []
    for i in range(people):
        at = (float(rng.uniform(-3, 3)), float(rng.uniform(6, 14)))
        truth = (
            synthetic.walker(frames, start=at, heading=float(rng.uniform(0, 2 * np.pi))),
            synthetic.stander(frames, at=at, facing=float(rng.uniform(0, 2 * np.pi))),
            synthetic.turner(frames, at=at),
        )[i % 3]
        poses = zip(truth.global_orient, truth.body_pose, strict=True)
        landmarks = np.stack([_landmarks(orient, body, np.zeros(3))[0] for orient, body in poses])
        landmarks += rng.normal(scale=noise, size=landmarks.shape)
        out.append((landmarks, observe(truth, rng).keypoints))
    return out


def per_frame(landmarks: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 24, 3) joints_rel and (T, 3) shifts (NaN where unplaced), a frame at a time."""
    joints, shifts = [], []
    for frame_landmarks, frame_keypoints in zip(landmarks, keypoints, strict=True):
        lifted = solve_frame(REST, frame_landmarks)
        shift = solve_translation(lifted.joints_rel, frame_keypoints, CAMERA)
        joints.append(lifted.joints_rel)
        shifts.append(np.full(3, np.nan) if shift is None else shift)
    return np.array(joints), np.array(shifts)


def batched(landmarks: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same, the whole track at once."""
    lifted = solve_frames(REST, landmarks)
    return lifted.joints_rel, solve_translations(lifted.joints_rel, keypoints, CAMERA)


def timed(path: Callable, people: list, repeats: int) -> tuple[float, list]:
    """Best of ``repeats`` seconds over all people, and the last run's results."""
    best, results = np.inf, []
    for _ in range(repeats):
        start = time.perf_counter()
        results = [path(landmarks, keypoints) for landmarks, keypoints in people]
        best = min(best, time.perf_counter() - start)
    return best, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--noise", type=float, default=0.02, help="landmark noise, metres")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    people = tracks(args.people, args.frames, args.noise, np.random.default_rng(args.seed))
    person_frames = args.people * args.frames
    slow, expected = timed(per_frame, people, args.repeats)
    fast, found = timed(batched, people, args.repeats)
    joints = max(np.abs(a[0] - b[0]).max() for a, b in zip(expected, found, strict=True))
    shifts = max(np.nanmax(np.abs(a[1] - b[1]), initial=0.0) for a, b in zip(expected, found, strict=True))
    print(f"lift: {args.people} synthetic people x {args.frames} frames, {args.noise * 100:g} cm landmark noise, "
          f"best of {args.repeats}")  # fmt: skip
    print(f"  a frame at a time: {1e3 * slow / person_frames:8.3f} ms per person-frame")
    print(f"  a track at a time: {1e3 * fast / person_frames:8.3f} ms per person-frame ({slow / fast:.1f}x faster)")
    print(f"  largest difference: joints {joints:.1e} m, translation {shifts:.1e} m")


if __name__ == "__main__":
    main()
