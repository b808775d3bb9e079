"""The temporal fit on synthetic ground truth: walkers, standers and turners seen as a monocular pipeline sees them.

Each person is built with known motion on a known floor (``tests/helpers/synthetic_motion.py``), then
observed with 2D keypoint noise, dropped frames, a 1-3 s occlusion, rotation noise, depth errors and a
left/right flip. The figures compare the per-frame estimate (what the fit starts from) with the fitted
motion, in the same run: MPJPE, PA-MPJPE (after a per-frame similarity alignment), root trajectory error,
the arms' pose (elbows and wrists from their shoulder), foot skate during true contacts, floor penetration,
and the time per person-frame.

.venv/bin/python bench/temporal_fit.py [--people 6] [--frames 150] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crowdmocap_addon.core.body.skeleton import forward_kinematics  # noqa: E402
from crowdmocap_addon.core.joints import SMPL, SMPL_FEET  # noqa: E402
from crowdmocap_addon.core.result.schema import CapturedPerson  # noqa: E402
from crowdmocap_addon.core.world import ground_alignment  # noqa: E402
from inference_server.estimators.person_motion import PersonMotion  # noqa: E402
from inference_server.motion.clean_up import MotionSettings, finish_people  # noqa: E402
from inference_server.motion.temporal_fit import fit as fit_module  # noqa: E402
from inference_server.pipeline.progress import CancelToken, StageMeter  # noqa: E402
from inference_server.tracking.tracker import Track  # noqa: E402
from tests.helpers import synthetic_motion as synthetic  # noqa: E402
from tests.helpers.synthetic_motion import CAMERA, FPS, GROUND, REST, Observed, TrueMotion, observe  # noqa: E402

_FEET = [j for foot in SMPL_FEET for j in foot]
_ARMS = [
    (SMPL[f"{side}_shoulder"], SMPL[f"{side}_{joint}"]) for side in ("left", "right") for joint in ("elbow", "wrist")
]
_WORLD = ground_alignment(GROUND)


def crowd(people: int, frames: int, rng: np.random.Generator) -> list[tuple[str, TrueMotion]]:
    """Walkers, standers and turners in turn, spread over the floor in front of the camera."""
    out = []
    for i in range(people):
        kind = ("walker", "stander", "turner")[i % 3]
        at = (float(rng.uniform(-3, 3)), float(rng.uniform(6, 14)))
        if kind == "walker":  # towards the middle of the view, give or take 45°
            heading = np.arctan2(10 - at[1], -at[0]) + rng.uniform(-np.pi / 4, np.pi / 4)
            motion = synthetic.walker(frames, start=at, heading=float(heading), stride=float(rng.uniform(0.25, 0.45)))
        elif kind == "stander":
            motion = synthetic.stander(frames, at=at, facing=float(rng.uniform(0, 2 * np.pi)))
        else:
            motion = synthetic.turner(frames, at=at)
        out.append((kind, motion))
    return out


def _pa_error(estimate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(T, J, 3) -> (T,) mean joint error after the best similarity transform per frame (Procrustes)."""
    errors = []
    for e, g in zip(estimate, truth, strict=True):
        e0, g0 = e - e.mean(0), g - g.mean(0)
        u, s, vt = np.linalg.svd(e0.T @ g0)
        d = np.sign(np.linalg.det(u @ vt))
        s[-1] *= d
        u[:, -1] *= d
        rotation, scale = u @ vt, s.sum() / (e0**2).sum()
        errors.append(np.linalg.norm(scale * e0 @ rotation - g0, axis=1).mean())
    return np.array(errors)


def _arm_error(joints: np.ndarray, truth: np.ndarray) -> float:
    """Mean error of the elbows and wrists measured from their shoulder: the arms' pose, whatever the depth did."""
    return float(np.mean([np.linalg.norm((joints[:, j] - joints[:, s]) - (truth[:, j] - truth[:, s]), axis=-1).mean()
                          for s, j in _ARMS]))  # fmt: skip


def figures(joints: np.ndarray, truth: TrueMotion) -> dict[str, float]:
    """Errors of (T, 24, 3) camera-frame joints against the truth, and their physical faults in the floor frame."""
    true_joints = truth.joints
    world = _WORLD.apply(joints)
    feet = world[:, _FEET].reshape(-1, 2, 2, 3)
    planted = truth.contact[1:] & truth.contact[:-1]
    skate = np.linalg.norm(np.diff(feet[..., :2], axis=0), axis=-1).mean(-1) * FPS  # (T - 1, 2)
    return {
        "mpjpe_mm": 1000 * float(np.linalg.norm(joints - true_joints, axis=-1).mean()),
        "pa_mpjpe_mm": 1000 * float(_pa_error(joints, true_joints).mean()),
        "root_mm": 1000 * float(np.linalg.norm(joints[:, 0] - true_joints[:, 0], axis=-1).mean()),
        "arms_mm": 1000 * _arm_error(joints, true_joints),
        "skate_cm_s": 100 * float(skate[planted].mean()) if planted.any() else float("nan"),
        "penetration_cm": 100 * float(np.clip(-world[:, _FEET, 2], 0, None).max(axis=1).mean()),
    }


def motion_stage(observed: list[Observed], fit: bool, iterations: int) -> list[CapturedPerson]:
    """The pipeline's motion stage on the per-frame estimates: today's chain (smoothing, floor, feet on it,
    flips, contacts, foot lock), and with ``fit`` the temporal fit after it (``clean_up.finish_people``)."""
    motions = []
    for i, seen in enumerate(observed):
        frames = np.arange(len(seen.transl))
        boxes = np.concatenate([seen.keypoints[..., :2].min(1), seen.keypoints[..., :2].max(1)], axis=1)
        track = Track(id=i + 1, frames=frames, keypoints=seen.keypoints, boxes=boxes, observed=seen.confidence > 0,
                      scores=seen.confidence, world_landmarks=None)  # fmt: skip
        motions.append(PersonMotion(track=track, global_orient=seen.global_orient, body_pose=seen.body_pose,
                                    transl=seen.transl, betas=np.zeros(10), rest_joints=REST,
                                    confidence=seen.confidence))  # fmt: skip
    settings = MotionSettings(fps=FPS, smoothing=1.0, foot_lock=True, temporal_fit=fit)
    with fit_settings(iterations=iterations):
        people, _ = finish_people(motions, CAMERA, settings, StageMeter("motion", len(motions), "people", None),
                                  CancelToken())  # fmt: skip
    return people


@contextmanager
def fit_settings(**changes: float):
    """The fit's settings changed for this bench (``--set``), as the pipeline will construct them: new defaults
    of ``FitSettings`` itself, so the settings stay the class the fit's worker processes unpickle."""
    defaults = fit_module.FitSettings.__init__.__kwdefaults__
    saved = dict(defaults)
    unknown = set(changes) - set(defaults)
    if unknown:
        raise SystemExit(f"not a FitSettings field: {', '.join(sorted(unknown))}")
    defaults.update({name: type(saved[name])(value) for name, value in changes.items()})
    try:
        yield
    finally:
        defaults.clear()
        defaults.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=6)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=fit_module.FitSettings().iterations)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a FitSettings field")
    args = parser.parse_args()
    overrides = {name: float(value) for name, value in (item.split("=") for item in args.set)}
    rng = np.random.default_rng(args.seed)
    people = crowd(args.people, args.frames, rng)
    observed = [observe(truth, rng, occlusion_s=float(rng.uniform(1.0, 3.0))) for _, truth in people]
    cleaned = motion_stage(observed, fit=False, iterations=args.iterations)
    start = time.perf_counter()
    with fit_settings(**overrides):
        fitted = motion_stage(observed, fit=True, iterations=args.iterations)
    seconds = time.perf_counter() - start
    person_frames = sum(len(seen.transl) for seen in observed)
    print(f"temporal fit: {len(people)} synthetic people x {args.frames} frames, {args.iterations} iterations, "
          f"motion stage {seconds * 1000 / person_frames:.2f} ms per person-frame (CPU)")  # fmt: skip
    names = ("mpjpe_mm", "pa_mpjpe_mm", "root_mm", "arms_mm", "skate_cm_s", "penetration_cm")
    print(f"{'person':<10}{'':<8}" + "".join(f"{n:>16}" for n in names))
    totals: dict[str, list[dict[str, float]]] = {"truth": [], "estimate": [], "clean-up": [], "fitted": []}
    for (kind, truth), seen, done, fit in zip(people, observed, cleaned, fitted, strict=True):
        rows = {
            "truth": figures(truth.joints, truth),
            "estimate": figures(
                forward_kinematics(REST, seen.global_orient, seen.body_pose, seen.transl).joints, truth
            ),
            "clean-up": figures(
                forward_kinematics(REST, done.global_orient, done.body_pose, done.transl).joints, truth
            ),
            "fitted": figures(forward_kinematics(REST, fit.global_orient, fit.body_pose, fit.transl).joints, truth),
        }
        for label, row in rows.items():
            totals[label].append(row)
            print(f"{kind:<10}{label:<8}" + "".join(f"{row[n]:16.1f}" for n in names))
    for label, rows in totals.items():
        print(f"{'mean':<10}{label:<8}" + "".join(f"{np.nanmean([r[n] for r in rows]):16.1f}" for n in names))


if __name__ == "__main__":
    main()
