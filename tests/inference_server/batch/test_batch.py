"""Batch capture on a real local Ray (2 CPUs and one GPU it accounts for: this machine has none, so torch
sees none), the real pipeline on the first frames of the shared clip (its 2D poses replayed): clips in
parallel, a corrupt one failing alone, resuming, a killed worker retried, where the GPU goes, long clips
in segments, and Ctrl-C leaving nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from crowdmocap_addon.core.result.reader import read_result
from inference_server.batch.inputs import find_clips
from inference_server.batch.runner import Resources, run_batch
from inference_server.pipeline.options import CaptureOptions
from tests.conftest import REPO
from tests.helpers.batch_captures import KilledOnce
from tests.helpers.recorded_poses import STREET_POSES, AnnouncedReplay
from tests.helpers.replay_cli import replaying_capture, server_command
from tests.helpers.street import STREET

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow
OPTIONS = CaptureOptions(stop=8, min_track_length=3)
WORKER_ENV = {"PYTHONPATH": str(REPO), "RAY_AUTH_MODE": "disabled"}  # workers import the replay from tests/
REPLAY = AnnouncedReplay(STREET_POSES)


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (starting one takes seconds), its workers able to import the tests."""
    saved = {name: os.environ.get(name) for name in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _clips(folder, names=("dawn", "noon", "dusk"), broken: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(STREET, folder / f"{name}.avi")
    if broken:
        (folder / broken).write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    return find_clips([str(folder)])


def test_clips_run_in_parallel_a_corrupt_one_fails_alone_and_results_match_a_single_run(local_ray, tmp_path):
    clips = _clips(tmp_path / "in", broken="broken.mp4")
    events = []
    records = run_batch(clips, tmp_path / "out", OPTIONS, pose_backend_factory=REPLAY, progress=events.append)
    by_name = {r.result: r for r in records}
    assert by_name["broken.npz"].status == "failed" and "cannot be read as video" in by_name["broken.npz"].error
    done = [r for r in records if r.status == "done"]
    assert len(done) == 3 and not (tmp_path / "out" / "broken.npz").exists()
    assert len({r.worker for r in done}) >= 2  # two workers captured side by side on the two CPUs
    for record in done:  # the lift needs no GPU: neither stage held the one Ray has
        assert record.resources == {"estimate": {"CPU": 1.0}, "finish": {"CPU": 1.0}}
    single = replaying_capture(STREET_POSES)(STREET, tmp_path / "single.npz", OPTIONS)
    reference = read_result(single.result_path)
    for record in done:
        result = read_result(tmp_path / "out" / record.result)
        assert record.people == len(result.people) == len(reference.people) and record.frames == 8
        for person, same in zip(result.people, reference.people, strict=True):
            np.testing.assert_array_equal(person.transl, same.transl)
        assert record.quality["observed"] + record.quality["filled"] + record.quality["repaired"] == pytest.approx(1.0)
    manifest = json.loads((tmp_path / "out" / "batch.json").read_text())
    assert manifest["batch"]["done"] == 3 and manifest["batch"]["failed"] == 1
    assert [c["status"] for c in manifest["clips"]].count("done") == 3
    finals = [e for e in events if e["event"] == "batch"]
    assert finals[-1]["done"] == 3 and finals[-1]["failed"] == 1 and finals[-1]["running"] == 0
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_a_rerun_skips_finished_clips_and_redoes_the_ones_whose_options_changed(local_ray, tmp_path):
    clips = _clips(tmp_path / "in", names=("one", "two"))
    run_batch(clips, tmp_path / "out", OPTIONS, pose_backend_factory=REPLAY)
    written = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*.npz")}
    again = run_batch(clips, tmp_path / "out", OPTIONS, pose_backend_factory=REPLAY)
    assert [r.status for r in again] == ["skipped", "skipped"]
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*.npz")} == written
    (tmp_path / "out" / "two.npz").unlink()  # a result gone: captured again
    changed = run_batch(clips, tmp_path / "out", CaptureOptions(stop=6, min_track_length=3),
                        pose_backend_factory=REPLAY)  # fmt: skip
    assert [r.status for r in changed] == ["done", "done"] and changed[0].frames == 6


def test_a_worker_killed_mid_capture_is_retried(local_ray, tmp_path):
    clips = _clips(tmp_path / "in", names=("crash",))
    marker = tmp_path / "killed_once"
    (record,) = run_batch(clips, tmp_path / "out", OPTIONS, pose_backend_factory=KilledOnce(marker))
    assert marker.exists()  # the first attempt's worker was killed (SIGKILL)
    assert record.status == "done" and read_result(tmp_path / "out" / "crash.npz").people


def test_the_gpu_is_held_by_the_estimates_only_and_shared_by_fractions(local_ray, tmp_path):
    clips = _clips(tmp_path / "in", names=("left", "right"))
    records = run_batch(clips, tmp_path / "out", OPTIONS, resources=Resources(gpus=0.5), pose_backend_factory=REPLAY)
    for record in records:  # half the GPU each for the estimates, none for the clean-ups
        assert record.status == "done", record.error
        assert record.resources == {"estimate": {"CPU": 1.0, "GPU": 0.5}, "finish": {"CPU": 1.0}}
    manifest = json.loads((tmp_path / "out" / "batch.json").read_text())
    assert manifest["clips"][0]["resources"]["estimate"]["GPU"] == 0.5


def test_the_command_captures_a_long_clip_in_segments_stitched_into_the_single_runs_people(tmp_path):
    _clips(tmp_path / "in", names=("long",))
    command = server_command("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--segment-frames", "40",
                             "--segment-overlap", "20", "--no-temporal-fit", "--num-cpus", "2", "--json")  # fmt: skip
    done = subprocess.run(command, check=False, cwd=REPO, env={**os.environ, **WORKER_ENV}, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (record,) = json.loads((tmp_path / "out" / "batch.json").read_text())["clips"]
    assert record["status"] == "done" and record["segments"] == 2 and record["frames"] == 100
    options = CaptureOptions(temporal_fit=False)  # without the whole-motion fit a stitch is exact (test_segments.py)
    single = replaying_capture(STREET_POSES)(STREET, tmp_path / "single.npz", options)
    stitched, reference = read_result(tmp_path / "out" / "long.npz"), read_result(single.result_path)
    assert len(stitched.people) == len(reference.people) and stitched.ground == reference.ground
    for person, same in zip(sorted(stitched.people, key=lambda p: int(p.frames[0])),
                            sorted(reference.people, key=lambda p: int(p.frames[0])), strict=True):  # fmt: skip
        np.testing.assert_array_equal(person.frames, same.frames)
        np.testing.assert_allclose(person.transl, same.transl, atol=1e-6)


def test_ctrl_c_cancels_what_is_running_and_leaves_no_partial_files(tmp_path):
    _clips(tmp_path / "in", names=("a", "b", "c"))
    command = server_command("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--stop", "8",
                             "--min-track-length", "3", "--num-cpus", "2", "--json", slow=60.0)  # fmt: skip
    env = {**os.environ, **WORKER_ENV}
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the clips are running
        line = child.stdout.readline()
        if '"event": "batch"' in line and json.loads(line)["running"] >= 1:
            break
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err[-2000:]
    manifest = json.loads((tmp_path / "out" / "batch.json").read_text())
    assert {c["status"] for c in manifest["clips"]} == {"cancelled"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["batch.json"]  # no result, no temporary file
    assert "cancelled" in err


def test_inputs_name_clips_once_each_with_unique_result_names(tmp_path):
    for folder in ("day1", "day2"):
        (tmp_path / folder).mkdir()
        shutil.copy(STREET, tmp_path / folder / "street.avi")
    (tmp_path / "day1" / "notes.txt").write_text("not a clip")
    clips = find_clips([str(tmp_path / "day1"), str(tmp_path / "day*" / "*.avi")])
    assert [c.result_name for c in clips] == ["day1_street.npz", "day2_street.npz"]
    from inference_server.batch.inputs import BatchInputError

    with pytest.raises(BatchInputError, match="no such file"):
        find_clips([str(tmp_path / "missing.mp4")])
    assert sys.executable  # the subprocess tests run this interpreter
