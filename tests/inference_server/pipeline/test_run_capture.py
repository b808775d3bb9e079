"""The pipeline end to end on the street clip, with the 2D stage replaying BlazePose's recorded output.

BlazePose itself is checked against the recording elsewhere (``tests/inference_server/test_recorded_poses.py``);
replaying its answers keeps these orchestration tests fast while every other stage runs for real. The
pose backend reaches ``run_capture`` through its ``pose_backend_factory`` parameter.
"""

from __future__ import annotations

import importlib.util

import av
import numpy as np
import pytest

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.plausibility import assess
from crowdmocap_addon.core.result.reader import read_result
from crowdmocap_addon.core.result.schema import QUALITY_FILLED
from inference_server.motion.facing import facing_directions, travel_directions
from inference_server.pipeline.options import CaptureOptions, OptionsError
from inference_server.pipeline.progress import CancelToken, PipelineCancelled, PipelineError
from inference_server.pipeline.run import run_capture
from inference_server.poses2d.types import FramePoses
from tests.helpers.recorded_poses import RecordedPoses
from tests.helpers.street import STREET, street_recording

pytestmark = pytest.mark.slow


class ReplayBackend(RecordedPoses):
    """The street clip's recorded poses, optionally failing on one frame or pressing cancel during one."""

    def __init__(self, fail_at: int | None = None, cancel_at: tuple[int, CancelToken] | None = None) -> None:
        super().__init__(street_recording())
        self.fail_at, self.cancel_at = fail_at, cancel_at

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> FramePoses:
        poses = super().__call__(image, index, time)
        if index == self.fail_at:
            raise RuntimeError("the pose model ran out of memory")
        if self.cancel_at is not None and index == self.cancel_at[0]:
            self.cancel_at[1].cancel()
        return poses


class ReplayFactory:
    """A ``pose_backend_factory`` that keeps every backend it opened, to check they were closed."""

    def __init__(self) -> None:
        self.opened: list[ReplayBackend] = []

    def __call__(self, plan) -> ReplayBackend:
        self.opened.append(ReplayBackend())
        return self.opened[-1]


@pytest.fixture
def replay() -> ReplayFactory:
    return ReplayFactory()


def test_whole_clip_gives_grounded_people_a_preview_and_full_provenance(replay, tmp_path):
    events = []
    summary = run_capture(STREET, tmp_path / "r.npz", CaptureOptions(), preview=tmp_path / "p.mp4",
                          progress=events.append, pose_backend_factory=replay)  # fmt: skip
    result = read_result(summary.result_path)
    assert summary.people == len(result.people) >= 4 and summary.frames == 100
    assert len(replay.opened) == 1 and replay.opened[0].closed and replay.opened[0].calls == 100
    assert (result.pipeline.estimator, result.pipeline.pose_backend, result.body_model.kind) == (
        "lift", "blazepose", "standin")  # fmt: skip
    assert result.video.fps_rational == (10, 1) and result.video.frame_count == 100
    options = result.pipeline.options
    assert options["min_track_length"] == 10 and options["models"] == {} and options["focal_px"] == 960.0
    installed = {"mediapipe"} if importlib.util.find_spec("mediapipe") else set()  # replaying needs no mediapipe
    assert {"crowdmocap", "numpy", "python", *installed} <= set(result.pipeline.versions)
    assert result.ground is not None and options["ground_feet"] is True
    for person in result.people:
        assert 1.4 < np.median(_head_heights(result, person)) < 1.75  # feet on the floor: heads at a person's height
        # Front/back flips mirrored back. Measured: 6 of 446 person-frames left, at most 2 per person, on the
        # machine this was first recorded on; 15 of 440, at most 7 per person (two people of the sign-post group,
        # whose tracks swap people) on an AMD EPYC with AVX-512 (2026-12-02), where the temporal fit lands
        # elsewhere from the same input (5 of 440 with it off). The fit's sensitivity is open work (issue 15).
        assert _walking_backwards(result, person) <= 8
        assert ((person.foot_contact >= 0) & (person.foot_contact <= 1)).all()
    backwards = sum(_walking_backwards(result, person) for person in result.people)
    assert backwards <= 0.04 * sum(person.num_frames for person in result.people)
    # progress: every stage reports, counts only grow, and each stage ends complete
    stages = [e.stage for e in events]
    assert [s for i, s in enumerate(stages) if s not in stages[:i]] == ["poses", "estimate", "motion", "write",
                                                                       "preview"]  # fmt: skip
    for stage in set(stages):
        done = [e.done for e in events if e.stage == stage]
        assert done == sorted(done) and events[max(i for i, s in enumerate(stages) if s == stage)].done > 0
    assert any(e.eta_s is not None for e in events if e.stage == "poses")
    with av.open(str(summary.preview_path)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 100


def _head_heights(result, person) -> np.ndarray:
    joints = forward_kinematics(person.rest_joints, person.global_orient, person.body_pose, person.transl).joints
    assert np.isfinite(joints).all()
    return joints[:, 15] @ np.asarray(result.ground.normal) + result.ground.offset


def _walking_backwards(result, person, fps: float = 10.0) -> int:
    """Frames where the person moves faster than a stroll while facing more than 120 degrees away from it."""
    up = np.asarray(result.ground.normal)
    velocity = travel_directions(person.transl, person.confidence, up, fps)
    speed = np.linalg.norm(velocity, axis=1)
    cosine = (facing_directions(person.global_orient, up) * velocity).sum(axis=1) / np.maximum(speed, 1e-9)
    return int(((speed > 0.5) & (cosine < -0.5) & (person.confidence > 0)).sum())


def test_without_grounding_and_facing_fix_people_keep_what_the_estimators_said(replay, tmp_path):
    # the chain's own options, so the whole-motion fit (which re-grounds everyone) is off in both runs
    options = CaptureOptions(ground_feet=False, fix_facing=False, temporal_fit=False)
    summary = run_capture(STREET, tmp_path / "r.npz", options, pose_backend_factory=replay)
    result = read_result(summary.result_path)
    assert result.pipeline.options["ground_feet"] is False and result.pipeline.options["fix_facing"] is False
    # What each option does is shown on synthetic motion with a known answer (tests/inference_server/motion/
    # test_grounding.py, test_facing.py, motion/test_clean_up.py); here: both reach the motion stage.
    default = read_result(run_capture(STREET, tmp_path / "d.npz", CaptureOptions(temporal_fit=False),
                                      pose_backend_factory=replay).result_path)  # fmt: skip
    moved = [np.abs(a.transl - b.transl).max() for a, b in zip(result.people, default.people, strict=True)]
    assert max(moved) > 0.05  # grounding moved someone by more than 5 cm in the default run


def test_frame_range_stride_and_max_people(replay, tmp_path):
    options = CaptureOptions(start=10, stop=70, stride=2, max_people=2, min_track_length=5, smoothing=0.0)
    summary = run_capture(STREET, tmp_path / "r.npz", options, pose_backend_factory=replay)
    result = read_result(summary.result_path)
    assert summary.frames == 30 and replay.opened[0].calls == 30 and len(result.people) == 2
    for person in result.people:
        assert person.frames.min() >= 10 and person.frames.max() < 70 and (person.frames % 2 == 0).all()
    assert result.video.first_frame == 10


def test_cancel_stops_within_a_frame_and_writes_nothing(tmp_path):
    token = CancelToken()
    backend = ReplayBackend(cancel_at=(5, token))
    with pytest.raises(PipelineCancelled):
        run_capture(
            STREET, tmp_path / "r.npz", CaptureOptions(), cancel=token, pose_backend_factory=lambda plan: backend
        )
    assert backend.calls == 6  # frames 0..5: the cancel pressed during frame 5 stops before frame 6
    assert list(tmp_path.iterdir()) == [] and backend.closed


def test_a_failing_stage_names_stage_frame_and_cause(tmp_path):
    backend = ReplayBackend(fail_at=7)
    with pytest.raises(PipelineError) as failure:
        run_capture(STREET, tmp_path / "r.npz", CaptureOptions(), pose_backend_factory=lambda plan: backend)
    assert (failure.value.stage, failure.value.frame) == ("poses", 7)
    assert "ran out of memory" in str(failure.value) and not (tmp_path / "r.npz").exists()
    assert backend.closed  # the backend is released on failure too


def test_unreadable_footage_and_bad_options_fail_before_any_work(tmp_path):
    text = tmp_path / "clip.mp4"
    text.write_text("this is not a video")
    with pytest.raises(PipelineError) as failure:
        run_capture(text, tmp_path / "r.npz")
    assert failure.value.stage == "open" and "clip.mp4" in str(failure.value)
    with pytest.raises(OptionsError, match="stride"):
        CaptureOptions(stride=0)
    with pytest.raises(OptionsError, match="3dcrowdnet"):
        run_capture(STREET, tmp_path / "r.npz", CaptureOptions(estimator="crowdnet", models_dir=str(tmp_path)))
    with pytest.raises(OptionsError, match="no frames"):
        run_capture(STREET, tmp_path / "r.npz", CaptureOptions(start=500, models_dir=str(tmp_path)))
    assert not (tmp_path / "r.npz").exists()


def test_the_temporal_fit_makes_the_street_motion_plausible_and_marks_each_frame(replay, tmp_path):
    fitted = read_result(run_capture(STREET, tmp_path / "f.npz", CaptureOptions(), pose_backend_factory=replay)
                         .result_path)  # fmt: skip
    chain = read_result(run_capture(STREET, tmp_path / "c.npz", CaptureOptions(temporal_fit=False),
                                    pose_backend_factory=replay).result_path)  # fmt: skip
    assert fitted.pipeline.options["temporal_fit"] is True and chain.pipeline.options["temporal_fit"] is False
    before, after = assess(chain), assess(fitted)
    print(
        f"implausible {before.implausible:.3f} -> {after.implausible:.3f}, peak pelvis "
        f"{before.peak_pelvis_speed:.1f} -> {after.peak_pelvis_speed:.1f} m/s, reprojection "
        f"{before.reprojection_px:.2f} -> {after.reprojection_px:.2f} px"
    )
    assert after.implausible < 0.02 < before.implausible
    assert after.peak_pelvis_speed < 5.0 < before.peak_pelvis_speed
    assert after.reprojection_px < before.reprojection_px + 0.5
    for person in fitted.people:  # every frame marked; the tracker's filled-in frames stay "filled"
        assert person.quality is not None
        np.testing.assert_array_equal(person.quality == QUALITY_FILLED, person.confidence == 0)
