"""The temporal fit: its torch body agrees with the core's, its terms penalise what they should, and on
synthetic people with known motion (``tests/helpers/synthetic_motion.py``) it moves the estimate towards the
truth and onto the floor."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from crowdmocap_addon.core.body.skeleton import forward_kinematics as core_forward_kinematics
from crowdmocap_addon.core.geometry import axis_angle_to_matrix
from crowdmocap_addon.core.joints import SMPL, SMPL_FEET
from crowdmocap_addon.core.result.schema import QUALITY_FILLED, QUALITY_OBSERVED, QUALITY_REPAIRED
from crowdmocap_addon.core.world import ground_alignment
from inference_server.estimators.person_motion import PersonMotion
from inference_server.motion.temporal_fit import terms
from inference_server.motion.temporal_fit.body import forward_kinematics, matrix_to_6d, six_d_to_matrix
from inference_server.motion.temporal_fit.fit import FitSettings, FittedMotion, PersonEvidence, fit_people
from inference_server.motion.temporal_fit.people import batches, cut_unexplained, frame_quality
from inference_server.motion.temporal_fit.workers import Workers, fit_workers, spread
from tests.helpers import synthetic_motion as synthetic
from tests.helpers.captures import make_capture

FEET = [j for foot in SMPL_FEET for j in foot]


def test_the_torch_body_poses_joints_as_the_core_does():
    rng = np.random.default_rng(3)
    rest = synthetic.REST + rng.normal(scale=0.01, size=(24, 3))
    pose = rng.normal(scale=0.4, size=(2, 24, 3))
    transl = rng.normal(size=(2, 3))
    expected = core_forward_kinematics(rest, pose[:, 0], pose[:, 1:], transl).joints
    local = torch.as_tensor(axis_angle_to_matrix(pose))[None]
    got = forward_kinematics(torch.as_tensor(rest)[None], local, torch.as_tensor(transl)[None])[0]
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)
    matrices = torch.as_tensor(axis_angle_to_matrix(pose))
    np.testing.assert_allclose(six_d_to_matrix(matrix_to_6d(matrices)).numpy(), matrices.numpy(), atol=1e-12)


def _batch(frames: int) -> terms.Batch:
    return terms.Batch(valid=torch.ones((1, frames), dtype=torch.bool), keypoints=torch.zeros((1, frames, 12, 2)),
                       keypoint_weight=torch.zeros((1, frames, 12)), body_height_px=torch.ones(1),
                       prior=torch.eye(3).expand(1, frames, 24, 3, 3), prior_weight=torch.zeros((1, frames)),
                       contact=torch.zeros((1, frames, 2)), fps=30.0)  # fmt: skip


def test_one_jump_costs_the_same_however_long_the_person_is_seen():
    def cost(frames: int, jump_at: int) -> float:
        pelvis = np.zeros((frames, 3))
        pelvis[:, 0] = np.arange(frames) * 3.0 / 30.0  # walking at 3 m/s, under the 4 m/s bound
        pelvis[jump_at:, 0] += 2.0 / 30.0  # one pair of frames at 5 m/s
        joints = torch.as_tensor(pelvis)[None, :, None].expand(1, frames, 24, 3)
        return float(terms.bounded_speed(joints, 4.0, _batch(frames), terms.Scales()))

    steady = np.zeros((1, 30, 24, 3))
    assert float(terms.bounded_speed(torch.as_tensor(steady), 4.0, _batch(30), terms.Scales())) == 0.0
    assert cost(20, 10) == pytest.approx(cost(300, 150), rel=1e-9)  # a long track does not dilute the jump
    assert cost(20, 10) == pytest.approx((1.0 / terms.Scales().overspeed) ** 2, rel=1e-6)


def test_the_arms_are_held_to_a_gentler_acceleration_than_the_feet():
    def cost(joint: str) -> float:
        joints = torch.zeros((1, 5, 24, 3), dtype=torch.float64)
        joints[0, 2, SMPL[joint], 0] = 0.01  # one frame 1 cm off: the same acceleration on either joint
        _, every = terms.smooth_motion(joints, _batch(5), terms.Scales())
        return float(every)

    scales = terms.Scales()
    ratio = (scales.joint_acceleration / scales.arm_acceleration) ** 2
    for arm in ("left_elbow", "right_wrist", "left_hand"):
        assert cost(arm) == pytest.approx(ratio * cost("left_ankle"), rel=1e-9)
    assert cost("left_ankle") == pytest.approx(cost("head"), rel=1e-9)


def test_the_top_speed_holds_a_fast_person_back_and_raising_it_lets_them_go():
    truth = synthetic.mover(24, start=(-1.5, 9.0), velocity=(6.0, 0.0))  # 6 m/s across the view
    seen = synthetic.observe(truth, np.random.default_rng(5), pixel_noise=0.5, rotation_noise=0.02, depth_error=0.0,
                             dropped=0.0, occlusion_s=0.0, flips=0)  # fmt: skip
    evidence = PersonEvidence(rest_joints=synthetic.REST, global_orient=seen.global_orient, body_pose=seen.body_pose,
                              transl=seen.transl, estimator_orient=seen.global_orient, estimator_pose=seen.body_pose,
                              confidence=seen.confidence, keypoints=seen.keypoints,
                              contact=np.zeros((24, 2)))  # fmt: skip
    world = ground_alignment(synthetic.GROUND)

    def fitted_speed(top_speed: float) -> np.ndarray:
        settings = FitSettings(iterations=150, max_root_speed=top_speed)
        fit = fit_people([evidence], synthetic.CAMERA, synthetic.GROUND, synthetic.FPS, settings)[0]
        floor = world.apply(fit.transl)[:, :2]
        return np.linalg.norm(np.diff(floor, axis=0), axis=1) * synthetic.FPS

    assert np.median(fitted_speed(4.0)) < 4.3
    assert np.median(fitted_speed(8.0)) == pytest.approx(6.0, abs=0.3)


@pytest.mark.parametrize("joint", ["left_knee", "right_knee", "left_elbow", "right_elbow"])
def test_hinges_bend_one_way_about_one_axis(joint):
    def penalty(axis_angle: np.ndarray) -> float:
        pose = np.zeros((1, 1, 24, 3))
        pose[0, 0, SMPL[joint]] = axis_angle
        local = torch.as_tensor(axis_angle_to_matrix(pose))
        return float(terms.hinge_limits(local, _batch(1), terms.Scales(), np.radians(10.0)))

    axis = np.array({"left_knee": (1, 0, 0), "right_knee": (1, 0, 0), "left_elbow": (0, -1, 0),
                     "right_elbow": (0, 1, 0)}[joint], dtype=np.float64)  # fmt: skip
    assert penalty(1.2 * axis) == pytest.approx(0.0, abs=1e-9)  # bent the way it bends
    assert penalty(-np.radians(5) * axis) == pytest.approx(0.0, abs=1e-9)  # a little hyperextension is allowed
    assert penalty(-0.8 * axis) > 10  # bent backwards
    assert penalty(np.roll(axis, 1) * 0.5) > 0.5  # turned about another axis


def test_people_are_batched_by_length_within_the_budget():
    groups = batches([100, 5000, 120, 4000, 90], budget=8000)
    assert groups == [[1], [3], [2, 0, 4]]  # 2 x 5000 and 4000 + 5000 exceed it; three short ones share one
    assert sorted(i for g in groups for i in g) == list(range(5))
    # the street clip's people: one batch (626 padded person-frames in three batches cost more than 792 in one)
    assert batches([50, 61, 40, 88, 83, 61, 59, 40, 18]) == [[3, 4, 1, 5, 6, 0, 2, 7, 8]]


def test_batches_are_split_until_every_worker_has_one():
    street = [50, 61, 40, 88, 83, 61, 59, 40, 18]
    groups = spread(batches(street), street, workers=2, overhead=300)
    assert groups == [[3, 4, 1, 5], [6, 0, 2, 7, 8]]  # 300 + 4 x 88 and 300 + 5 x 59: the larger least (652)
    four = spread(batches(street), street, workers=4, overhead=300)
    assert len(four) == 4 and sorted(i for g in four for i in g) == list(range(9))
    assert spread([[0], [1]], [10, 10], workers=4, overhead=300) == [[0], [1]]  # one person, one batch


def _partitions(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _partitions(rest):
        yield [[first], *partition]
        for i in range(len(partition)):
            yield [*partition[:i], [first, *partition[i]], *partition[i + 1 :]]


@pytest.mark.parametrize("seed", range(20))
def test_batches_cost_the_least_of_every_grouping(seed: int):
    """Against all 203 ways to group six people: nothing within the budget costs less."""
    rng = np.random.default_rng(seed)
    lengths = [int(n) for n in rng.integers(5, 400, size=6)]
    budget, overhead = int(rng.integers(400, 1500)), int(rng.integers(0, 500))

    def cost(groups: list[list[int]]) -> float:
        sizes = [len(g) * max(lengths[i] for i in g) for g in groups]
        if any(size > budget and len(g) > 1 for size, g in zip(sizes, groups, strict=True)):
            return float("inf")
        return sum(sizes) + overhead * len(groups)

    best = min(cost(p) for p in _partitions(list(range(6))))
    assert cost(batches(lengths, budget, overhead)) == best


def _scene(seed: int = 1, frames: int = 90):
    rng = np.random.default_rng(seed)
    truths = [synthetic.walker(frames, start=(-1.5, 9.0), heading=0.2),
              synthetic.stander(frames, at=(1.5, 11.0), facing=2.0)]  # fmt: skip
    seen = [synthetic.observe(t, rng, occlusion_s=1.0) for t in truths]
    evidence = [PersonEvidence(rest_joints=synthetic.REST, global_orient=s.global_orient, body_pose=s.body_pose,
                               transl=s.transl, estimator_orient=s.global_orient, estimator_pose=s.body_pose,
                               confidence=s.confidence, keypoints=s.keypoints, contact=t.contact.astype(float))
                for s, t in zip(seen, truths, strict=True)]  # fmt: skip
    return truths, seen, evidence


def _skate(world_joints: np.ndarray, planted: np.ndarray) -> float:
    """Mean floor-plane speed (m/s) of the feet over the pairs of frames where the truth has them planted."""
    feet = world_joints[:, FEET, :2].reshape(-1, 2, 2, 2)
    both = planted[1:] & planted[:-1]
    return float(np.linalg.norm(np.diff(feet, axis=0), axis=-1).mean(-1)[both].mean() * synthetic.FPS)


@pytest.mark.slow
def test_the_fit_moves_noisy_estimates_towards_the_truth_and_onto_the_floor():
    truths, seen, evidence = _scene()
    fitted = fit_people(evidence, synthetic.CAMERA, synthetic.GROUND, synthetic.FPS, FitSettings(iterations=120))
    world = ground_alignment(synthetic.GROUND)
    for truth, estimate, fit in zip(truths, seen, fitted, strict=True):
        true_joints = truth.joints
        before = core_forward_kinematics(synthetic.REST, estimate.global_orient, estimate.body_pose,
                                         estimate.transl).joints  # fmt: skip
        after = core_forward_kinematics(synthetic.REST, fit.global_orient, fit.body_pose, fit.transl).joints
        error = [np.linalg.norm(j - true_joints, axis=-1).mean() for j in (before, after)]
        assert error[1] < 0.4 * error[0]  # measured 0.12-0.24 of the estimate's joint error
        lowest = world.apply(after)[:, FEET, 2].min(axis=1)
        assert np.abs(lowest).max() < 0.05  # on the floor every frame, the occlusion's frames too
        skate = [_skate(world.apply(j), truth.contact) for j in (before, after)]
        assert skate[1] < 0.2 * skate[0]  # planted feet slide far less (measured 0.09 of the estimate's)
        hidden = estimate.confidence == 0
        speed = np.linalg.norm(np.diff(after[:, 0], axis=0), axis=1) * synthetic.FPS
        assert speed.max() < 4.0 and np.isfinite(fit.reprojection_px[~hidden]).all()
        assert np.isnan(fit.reprojection_px[hidden]).all()  # no evidence there, so no error either


def test_frames_are_marked_filled_where_unseen_and_repaired_where_the_fit_left_the_evidence():
    motion = FittedMotion(global_orient=np.zeros((5, 3)), body_pose=np.zeros((5, 23, 3)), transl=np.zeros((5, 3)),
                          reprojection_px=np.array([2.0, 30.0, np.nan, 9.0, 11.0]), body_height_px=100.0)  # fmt: skip
    confidence = np.array([0.9, 0.9, 0.0, 0.8, 0.0])
    np.testing.assert_array_equal(frame_quality(confidence, motion, repaired_error=0.1),
                                  [QUALITY_OBSERVED, QUALITY_REPAIRED, QUALITY_FILLED, QUALITY_OBSERVED,
                                   QUALITY_FILLED])  # fmt: skip


def test_long_stretches_the_fit_had_to_repair_are_cut_out_of_the_track():
    person = make_capture(seed=4, people=1, frames=40).people[0]
    quality = np.zeros(40, np.uint8)
    quality[0:12] = QUALITY_REPAIRED  # a second at the start: trimmed
    quality[20:22] = QUALITY_REPAIRED  # a short stretch: kept, still marked
    quality[25:36] = QUALITY_REPAIRED  # 11 frames inside: the track is split there
    quality[38] = QUALITY_FILLED
    person.quality = quality
    other = make_capture(seed=5, people=1, frames=30).people[0]
    pieces = cut_unexplained([person, other], min_run=10)
    assert [p.id for p in pieces] == [person.id, other.id]  # the piece after the inner cut (36-39) is too short
    np.testing.assert_array_equal(pieces[0].frames, person.frames[12:25])
    np.testing.assert_array_equal(pieces[0].quality, quality[12:25])
    np.testing.assert_array_equal(pieces[0].transl, person.transl[12:25])
    assert pieces[1] is other
    split = cut_unexplained([person], min_run=3)  # now the last piece (36-39) is long enough: a new person
    assert [(p.id, p.num_frames) for p in split] == [(person.id, 13), (person.id + 1, 4)]  # 20-21 is under 3
    np.testing.assert_array_equal(split[1].frames, person.frames[36:])
    assert split[1].quality[2] == QUALITY_FILLED


def test_a_diverged_fit_keeps_the_chain_motion_instead_of_breaking_the_capture(monkeypatch):
    import inference_server.motion.temporal_fit.people as people_module

    _, seen, _ = _scene(frames=30)
    capture = make_capture(seed=1, people=1, frames=30)
    chain = replace(capture.people[0], keypoints2d=seen[0].keypoints, confidence=seen[0].confidence,
                    global_orient=seen[0].global_orient, body_pose=seen[0].body_pose, transl=seen[0].transl,
                    rest_joints=synthetic.REST)  # fmt: skip

    def diverged(evidence, *args, **kwargs):
        return [FittedMotion(global_orient=np.zeros((e.frames, 3)), body_pose=np.zeros((e.frames, 23, 3)),
                             transl=np.full((e.frames, 3), np.inf), reprojection_px=np.zeros(e.frames),
                             body_height_px=100.0) for e in evidence]  # fmt: skip

    monkeypatch.setattr(people_module, "fit_people", diverged)
    estimate = PersonMotion(track=None, global_orient=seen[0].global_orient, body_pose=seen[0].body_pose,
                            transl=seen[0].transl, betas=np.zeros(10), rest_joints=synthetic.REST,
                            confidence=seen[0].confidence)  # fmt: skip
    (kept,), _ = people_module.fit_captured([chain], [estimate], synthetic.CAMERA, synthetic.GROUND, fps=30.0)
    np.testing.assert_array_equal(kept.transl, chain.transl)  # the chain's, untouched


def test_a_leg_held_wrong_for_seconds_is_undone_sooner_through_the_pose_knots():
    """The chain can hold a limb wrong for a long stretch (here a hip and knee, 50 frames); moved only
    frame by frame, L-BFGS undoes such an error a little per iteration, through the knots in a few."""
    rng = np.random.default_rng(3)
    truth = synthetic.walker(90, start=(-1.5, 9.0), heading=0.2)
    seen = synthetic.observe(truth, rng, occlusion_s=0.0)
    held = truth.body_pose.copy()
    held[20:70, 0, 0] += 0.5  # left hip
    held[20:70, 3, 0] -= 0.4  # left knee
    evidence = PersonEvidence(rest_joints=synthetic.REST, global_orient=truth.global_orient, body_pose=held,
                              transl=truth.transl, estimator_orient=truth.global_orient,
                              estimator_pose=truth.body_pose, confidence=seen.confidence, keypoints=seen.keypoints,
                              contact=truth.contact.astype(float))  # fmt: skip

    def leg_error(body_pose: np.ndarray, transl: np.ndarray, orient: np.ndarray) -> float:
        joints = core_forward_kinematics(synthetic.REST, orient, body_pose, transl).joints
        return float(np.linalg.norm(joints[20:70, [4, 7]] - truth.joints[20:70, [4, 7]], axis=-1).mean())

    errors = {}
    for spacing in (0, 4):
        settings = FitSettings(iterations=10, pose_knot_frames=spacing)
        (fit,) = fit_people([evidence], synthetic.CAMERA, synthetic.GROUND, synthetic.FPS, settings)
        errors[spacing] = leg_error(fit.body_pose, fit.transl, fit.global_orient)
    start = leg_error(held, truth.transl, truth.global_orient)  # 219 mm at the left knee and ankle
    assert errors[0] < start and errors[4] < 0.95 * errors[0]  # measured 182 and 155 mm


@pytest.mark.slow
def test_people_fitted_in_worker_processes_come_out_as_fitted_here():
    """Two people on two cores: each is their own problem, so fitting them side by side in spawned processes
    gives each the motion they get in this process (up to float32 round-off of a differently padded batch)."""
    import inference_server.motion.temporal_fit.people as people_module

    _, _, evidence = _scene(frames=40)
    short = FitSettings(iterations=15, root_iterations=5)
    here = people_module._fit_all(evidence, synthetic.CAMERA, synthetic.GROUND, fps=30.0, settings=short,
                                  check=lambda: None, workers=Workers(None, 1))  # fmt: skip
    with fit_workers(len(evidence), replace(short, workers=2)) as workers:
        assert workers.count == 2 and workers.pool is not None
        apart = people_module._fit_all(evidence, synthetic.CAMERA, synthetic.GROUND, fps=30.0, settings=short,
                                       check=lambda: None, workers=workers)  # fmt: skip
    for a, b, start in zip(here, apart, evidence, strict=True):
        assert np.abs(a.transl - start.transl).max() > 0.01  # the fit moved them
        np.testing.assert_allclose(b.transl, a.transl, atol=1e-3)
        np.testing.assert_allclose(b.body_pose, a.body_pose, atol=1e-2)


def test_a_cancelled_capture_stops_the_worker_processes_fit_between_batches():
    import inference_server.motion.temporal_fit.people as people_module

    _, _, evidence = _scene(frames=20)

    def cancelled() -> None:
        raise RuntimeError("cancelled")

    settings = FitSettings(iterations=2, root_iterations=1, workers=2)
    with fit_workers(len(evidence), settings) as workers, pytest.raises(RuntimeError, match="cancelled"):
        people_module._fit_all(evidence, synthetic.CAMERA, None, fps=30.0, settings=settings, check=cancelled,
                               workers=workers)  # fmt: skip


class _DiesInTheWorker:
    """Evidence that kills the worker process that unpickles it, as a native crash would."""

    frames = 10

    def __reduce__(self):
        import os

        return os._exit, (3,)


def test_a_worker_process_that_dies_fails_the_motion_stage_with_a_clear_error():
    import inference_server.motion.temporal_fit.people as people_module
    from inference_server.pipeline.progress import PipelineError

    evidence = [_DiesInTheWorker(), _DiesInTheWorker()]
    settings = FitSettings(workers=2)
    with fit_workers(len(evidence), settings) as workers, pytest.raises(PipelineError) as failed:
        people_module._fit_all(evidence, synthetic.CAMERA, None, fps=30.0, settings=settings, check=lambda: None,
                               workers=workers)  # fmt: skip
    assert failed.value.stage == "motion" and "--no-temporal-fit" in failed.value.cause


def _workers_in_this_process(answers) -> None:
    with fit_workers(3, FitSettings(workers=2)) as workers:
        answers.put(workers.count)


def test_a_daemon_process_such_as_the_servers_capture_child_fits_in_itself():
    """The server runs each capture in a daemonic child (``server/capture_process.py``), and a daemon may not
    start processes: asked for workers there, the fit runs in the capture's own process instead of failing."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=_workers_in_this_process, args=(answers,), daemon=True)
    child.start()
    count = answers.get(timeout=60)
    child.join(timeout=60)
    assert count == 1 and child.exitcode == 0


def _slow_pid() -> int:
    import os
    import time

    time.sleep(0.5)  # long enough that both workers take a share
    return os.getpid()


def _start_workers_and_die(answers) -> None:
    import os

    manager = fit_workers(2, FitSettings(workers=2))  # held: a collected generator would shut the pool down
    workers = manager.__enter__()
    asked = [workers.pool.submit(_slow_pid) for _ in range(4)]
    answers.put(sorted({answer.result() for answer in asked}))
    answers.close()
    answers.join_thread()  # the answer is in the pipe before the end
    os._exit(0)  # killed, as a capture child that ignored a cancel is: no shutdown, no clean-up


def _running(pid: int) -> bool:
    from pathlib import Path

    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_fits_worker_processes_end_with_the_process_that_started_them():
    """A process pool's workers outlive a parent that is killed, blocked on their queue for good (measured:
    still there minutes later, 230 MB each); each worker watches its parent and leaves with it."""
    import multiprocessing
    import time

    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    parent = context.Process(target=_start_workers_and_die, args=(answers,))
    parent.start()
    pids = answers.get(timeout=120)
    parent.join(timeout=30)
    assert pids and parent.exitcode == 0
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _running(pid)]
