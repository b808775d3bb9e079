"""The worker with a fake runner: progress, one job at a time, cancel, failures, shutdown, delete."""

from __future__ import annotations

import errno
import logging
import threading
import time
from pathlib import Path

import pytest

from crowdmocap_addon.core.result.reader import read_result
from inference_server.footage.reader import FootageError
from inference_server.pipeline.model_plan import MissingModelError
from inference_server.pipeline.options import OptionsError
from inference_server.pipeline.progress import PipelineError
from inference_server.server import worker as worker_module
from inference_server.server.capture_process import IsolatedRunner
from inference_server.server.ids import new_id
from inference_server.server.job_files import RESULT_FILE, JobFiles
from inference_server.server.job_record import JobOutcome, StageProgress
from inference_server.server.schemas import JobStatus
from inference_server.server.store import JobStore
from inference_server.server.worker import JobWorker
from tests.helpers.child_runners import scripted_capture

from .conftest import FakeRunner, wait_until

OVERRIDES = {"device": "cpu", "models_dir": "/srv/models"}


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path)


@pytest.fixture
def make_worker(store):
    workers: list[JobWorker] = []

    def make(runner: FakeRunner) -> JobWorker:
        worker = JobWorker(store, runner, server_options=OVERRIDES)
        worker.start()
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop(timeout=5)


def _submit(store: JobStore, **options) -> str:
    job_id = new_id()
    store.job_dir(job_id).mkdir()
    store.create(job_id, source_kind="upload", source_name="clip.avi", input_path=Path("/footage/clip.avi"),
                 options={"stop": 20, "min_track_length": 3, **options})  # fmt: skip
    return job_id


def _footage_error() -> PipelineError:
    try:
        raise FootageError("/footage/clip.avi: cannot be read as video (Invalid data)")
    except FootageError as exc:
        try:
            raise PipelineError("open", str(exc)) from exc
        except PipelineError as wrapped:
            return wrapped


def _wait_state(store: JobStore, job_id: str, *states: str, timeout: float = 10.0) -> float:
    return wait_until(lambda: store.get(job_id).state in states, timeout)


def test_a_job_runs_with_server_options_and_records_progress_and_summary(store, make_worker):
    runner = FakeRunner(frames=5)
    make_worker(runner)
    job_id = _submit(store, preview=True)
    _wait_state(store, job_id, "done")
    job = store.get(job_id)
    assert job.progress["poses"] == StageProgress(stage="poses", done=5, total=5, unit="frames", eta_s=0.5)
    assert job.stage == "poses"
    assert job.summary == JobOutcome(people=3, frames=5, estimator="lift", pose_backend="blazepose",
                                     warnings=("a warning",), seconds=0.25, preview=True)  # fmt: skip
    assert job.started and job.finished and job.error is None
    (call,) = runner.calls
    assert call["footage"] == Path("/footage/clip.avi")
    assert call["options"].device == "cpu" and call["options"].models_dir == "/srv/models"
    assert call["options"].stop == 20 and call["options"].min_track_length == 3
    assert call["preview"] == store.job_dir(job_id) / "preview.mp4"
    assert len(read_result(store.job_dir(job_id) / RESULT_FILE).people) == 3


def test_jobs_run_one_at_a_time_in_submission_order(store, make_worker):
    runner = FakeRunner(frames=3, delay_s=0.02)
    jobs = [_submit(store) for _ in range(3)]
    make_worker(runner)
    for job_id in jobs:
        _wait_state(store, job_id, "done")
    assert runner.most_active == 1
    starts = [store.get(job_id).started for job_id in jobs]
    assert starts == sorted(starts)


def test_cancelling_a_running_job_takes_effect_within_a_second(store, make_worker):
    runner = FakeRunner(hold=threading.Event())
    worker = make_worker(runner)
    job_id = _submit(store)
    assert runner.started.wait(5)
    assert store.get(job_id).state == "running"
    asked = time.monotonic()
    assert worker.cancel(job_id) == "running"
    _wait_state(store, job_id, "cancelled", timeout=5)
    assert time.monotonic() - asked < 1.0
    job = store.get(job_id)
    assert job.finished and any("cancel requested" in note for note in job.notes)
    assert not (store.job_dir(job_id) / RESULT_FILE).exists()


def test_cancelling_a_queued_job_means_it_never_runs(store, make_worker):
    hold = threading.Event()
    runner = FakeRunner(hold=hold)
    worker = make_worker(runner)
    first, second = _submit(store), _submit(store)
    assert runner.started.wait(5)
    assert worker.cancel(second) == "queued"
    assert store.get(second).state == "cancelled"
    hold.set()
    _wait_state(store, first, "done")
    time.sleep(0.1)
    assert len(runner.calls) == 1 and store.get(second).state == "cancelled"


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        (FakeRunner(fail_at=2), {"code": "pipeline_failed", "message": "the pose model crashed", "stage": "poses",
                                 "frame": 2}),
        (FakeRunner(error=_footage_error()), {"code": "footage_unreadable", "stage": "open", "frame": None}),
        (FakeRunner(error=MissingModelError("no RTMO model: models fetch rtmo-l")),
         {"code": "missing_model", "message": "no RTMO model: models fetch rtmo-l", "stage": "open"}),
        (FakeRunner(error=OptionsError("no frames to process")), {"code": "invalid_options", "stage": None}),
    ],
    ids=["pipeline-error", "unreadable-footage", "missing-model", "options-error"],
)  # fmt: skip
def test_failures_record_the_stage_frame_and_a_stable_code(store, make_worker, runner, expected):
    make_worker(runner)
    job_id = _submit(store)
    _wait_state(store, job_id, "failed")
    job = store.get(job_id)
    assert job.error is not None
    assert {key: getattr(job.error, key) for key in expected} == expected
    assert job.finished and job.summary is None


def test_an_unexpected_exception_fails_the_job_without_details_and_is_logged(store, make_worker, caplog):
    make_worker(FakeRunner(error=ZeroDivisionError("secret internals")))
    job_id = _submit(store)
    with caplog.at_level(logging.ERROR, logger="inference_server.server.worker"):
        _wait_state(store, job_id, "failed")
    error = store.get(job_id).error
    assert error is not None and error.code == "internal_error"
    assert "secret" not in error.message
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1]) for record in caplog.records)


def test_a_server_shutdown_requeues_the_running_job_instead_of_cancelling_it(store, make_worker):
    runner = FakeRunner(hold=threading.Event())
    worker = make_worker(runner)
    job_id = _submit(store)
    assert runner.started.wait(5)
    worker.stop(timeout=5)
    job = JobStore(store.jobs_dir.parent).get(job_id)  # as the next start will read it
    assert job.state == "queued"
    assert any("interrupted by a server shutdown" in note for note in job.notes)


def test_deleting_a_running_job_cancels_it_and_removes_its_folder_after_the_run(store, make_worker):
    runner = FakeRunner(hold=threading.Event())
    worker = make_worker(runner)
    job_id = _submit(store)
    assert runner.started.wait(5)
    folder = store.job_dir(job_id)
    worker.delete(job_id)
    assert job_id not in [record.id for record, _ in store.list()]
    wait_until(lambda: not folder.exists(), timeout=5)
    follower = _submit(store)  # the worker is free again
    runner.hold.set()
    _wait_state(store, follower, "done")


def _submit_footage(store: JobStore, footage: Path, shown: str = "street.mp4") -> str:
    job_id = new_id()
    store.job_dir(job_id).mkdir()
    store.create(job_id, source_kind="upload", source_name=shown, input_path=footage, options={"stop": 20})
    return job_id


def test_a_native_crash_fails_only_its_job_and_clients_never_see_server_paths(store, make_worker, tmp_path):
    make_worker(IsolatedRunner(scripted_capture))
    data = store.jobs_dir.parent
    crashing = _submit_footage(store, data / "jobs" / "crash.avi")
    unreadable = _submit_footage(store, data / "uploads" / "unreadable.avi", shown="holiday.mov")
    fine = _submit_footage(store, data / "uploads" / "clip.avi")
    _wait_state(store, fine, "done", timeout=30)
    crashed = store.get(crashing)
    assert crashed.state == "failed" and crashed.error.code == "capture_crashed" and crashed.error.stage == "poses"
    assert "SIGABRT" in crashed.error.message
    failed = store.get(unreadable).error
    assert failed.code == "footage_unreadable"
    assert failed.message == "holiday.mov: cannot be read as video (Invalid data found)"
    done = store.get(fine).summary
    assert done.warnings == ("street.mp4: 2 frames were dropped", "recorded as street.mp4")
    for job_id in (crashing, unreadable, fine):
        assert str(data) not in JobStatus.from_record(store.get(job_id), None).model_dump_json()


def test_the_worker_survives_a_full_disk_and_resumes_when_space_returns(store, make_worker, monkeypatch):
    real_save, full = JobFiles.save, threading.Event()

    def save(self, record):
        if full.is_set():
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(self, record)

    monkeypatch.setattr(JobFiles, "save", save)
    monkeypatch.setattr(worker_module, "RETRY_S", 0.05)
    runner = FakeRunner(frames=2)
    worker = make_worker(runner)
    waiting = _submit(store)  # (refused at submit while the disk is full: creating it needs a save)
    full.set()
    wait_until(lambda: worker.problems, timeout=5)  # claiming it needs a save: the job stays queued
    assert "No space left on device" in worker.problems[0]
    assert store.get(waiting).state == "queued" and runner.calls == []
    full.clear()
    _wait_state(store, waiting, "done")
    wait_until(lambda: not worker.problems and not store.problems, timeout=5)


def test_a_job_that_ends_on_a_full_disk_shows_its_failure_and_is_saved_later(store, make_worker, monkeypatch):
    runner = FakeRunner(hold=threading.Event())
    make_worker(runner)
    monkeypatch.setattr(worker_module, "RETRY_S", 0.05)
    job_id, next_job = _submit(store), _submit(store)
    assert runner.started.wait(5)
    real_save = JobFiles.save
    monkeypatch.setattr(JobFiles, "save", lambda self, record: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    runner.error = PipelineError("write", "the result file cannot be written ([Errno 28] No space left on device)")
    runner.error.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    runner.hold.set()
    _wait_state(store, job_id, "failed")
    assert store.get(job_id).error.code == "disk_full"
    assert store.problems and store.get(next_job).state == "queued"
    time.sleep(0.3)
    assert store.get(next_job).state == "queued"  # nothing starts while records cannot be saved
    monkeypatch.setattr(JobFiles, "save", real_save)
    runner.error = None
    _wait_state(store, next_job, "done")
    assert JobStore(store.jobs_dir.parent).get(job_id).error.code == "disk_full"  # the failure reached the disk


def test_a_second_shutdown_while_a_job_runs_fails_it(store, tmp_path):
    job_id = _submit(store)
    for expected in ("queued", "failed"):
        current = JobStore(store.jobs_dir.parent)
        runner = FakeRunner(hold=threading.Event())
        worker = JobWorker(current, runner, server_options=OVERRIDES)
        worker.start()
        assert runner.started.wait(5)
        worker.stop(timeout=5)
        assert JobStore(store.jobs_dir.parent).get(job_id).state == expected


def test_a_cancel_asked_of_a_running_job_is_saved_with_it(store, make_worker):
    runner = FakeRunner(hold=threading.Event(), deaf_to_cancel=True)
    worker = make_worker(runner)
    job_id = _submit(store)
    assert runner.started.wait(5)
    worker.cancel(job_id)
    assert JobStore(store.jobs_dir.parent).get(job_id).state == "cancelled"  # had the server died now
    runner.hold.set()
