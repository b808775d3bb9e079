"""Captures in a supervised child process: outcomes and progress come back, a native crash stays in the child.

Real child processes (the production fork server), real ``os.abort()`` crashes, real pipes; the runner
is ``tests.helpers.child_runners.scripted_capture``, cued by the footage's file name.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from crowdmocap_addon.core.result.reader import read_result
from inference_server.pipeline.options import CaptureOptions
from inference_server.pipeline.progress import CancelToken, PipelineCancelled, ProgressEvent
from inference_server.server.capture_process import (
    EXIT_ORPHANED,
    CaptureCall,
    IsolatedRunner,
    _child_main,
    default_start_method,
)
from inference_server.server.failures import CaptureFailed
from tests.helpers.child_runners import scripted_capture


@pytest.fixture(scope="module")
def isolated() -> IsolatedRunner:
    return IsolatedRunner(scripted_capture, cancel_grace_s=1.0)


def _run(isolated: IsolatedRunner, tmp_path: Path, name: str, cancel: CancelToken | None = None,
         cancel_after: int | None = None) -> tuple[object, list[ProgressEvent]]:  # fmt: skip
    events: list[ProgressEvent] = []
    cancel = cancel or CancelToken()

    def progress(event: ProgressEvent) -> None:
        events.append(event)
        if cancel_after is not None and len(events) >= cancel_after:
            cancel.cancel()

    summary = isolated(tmp_path / name, tmp_path / "result.npz", CaptureOptions(), progress=progress, cancel=cancel,
                       footage_name="street.mp4")  # fmt: skip
    return summary, events


def test_a_capture_in_the_child_streams_progress_and_returns_its_summary(isolated, tmp_path):
    summary, events = _run(isolated, tmp_path, "clip.avi")
    assert [event.done for event in events] == [1, 2, 3] and events[0].stage == "poses"
    assert summary.people == 3 and summary.warnings[-1] == "recorded as street.mp4"
    assert len(read_result(tmp_path / "result.npz").people) == 3  # written by the child


def test_the_capture_child_may_start_the_temporal_fits_worker_processes(isolated, tmp_path):
    """The child is started as a daemon (the server's exit ends it), and a daemon may not start processes:
    unless the child clears that for itself, server jobs fit everyone on one core."""
    summary, _ = _run(isolated, tmp_path, "workers.avi")
    (child, *workers) = [int(warning.split()[1]) for warning in summary.warnings]
    assert workers and not {child, os.getpid()} & set(workers)  # processes of their own


def test_a_native_crash_fails_the_capture_naming_the_signal_and_the_stage(isolated, tmp_path):
    with pytest.raises(CaptureFailed) as caught:
        _run(isolated, tmp_path, "crash.avi")
    failure = caught.value.failure
    assert failure.code == "capture_crashed" and failure.stage == "poses"
    assert "killed by SIGABRT during stage 'poses' after 2 of 10 frames" in failure.message
    assert "the server is still running" in failure.message
    summary, _ = _run(isolated, tmp_path, "after.avi")  # the next capture runs as if nothing happened
    assert summary.people == 3


def test_a_child_that_exits_without_an_outcome_is_a_crash_too(isolated, tmp_path):
    with pytest.raises(CaptureFailed, match="exited with status 3 during stage 'poses'"):
        _run(isolated, tmp_path, "exit.avi")


@pytest.mark.parametrize(("name", "code", "stage"), [("unreadable.avi", "footage_unreadable", "open"),
                                                     ("full.avi", "disk_full", "write")])  # fmt: skip
def test_errors_raised_in_the_child_keep_their_codes(isolated, tmp_path, name, code, stage):
    with pytest.raises(CaptureFailed) as caught:
        _run(isolated, tmp_path, name)
    assert (caught.value.failure.code, caught.value.failure.stage) == (code, stage)
    if code == "disk_full":
        assert "disk is full" in caught.value.failure.message


def test_a_cancel_reaches_the_child_within_a_second(isolated, tmp_path):
    cancel, asked = CancelToken(), []

    def progress(event: ProgressEvent) -> None:
        asked.append(time.monotonic())
        cancel.cancel()

    with pytest.raises(PipelineCancelled):
        isolated(tmp_path / "wait.avi", tmp_path / "result.npz", CaptureOptions(), progress=progress, cancel=cancel)
    assert len(asked) == 1 and time.monotonic() - asked[0] < 1.0


def test_a_child_deaf_to_the_cancel_is_killed_after_the_grace_period(isolated, tmp_path):
    started = time.monotonic()
    with pytest.raises(PipelineCancelled, match="stopped"):
        _run(isolated, tmp_path, "deaf.avi", cancel_after=1)
    assert time.monotonic() - started < 10  # it would sleep 60 s


def test_a_crash_after_a_cancel_request_is_the_cancel(isolated, tmp_path):
    with pytest.raises(PipelineCancelled):
        _run(isolated, tmp_path, "crashcancel.avi", cancel_after=1)


def test_a_child_whose_server_is_gone_exits_at_once(tmp_path):
    context = multiprocessing.get_context(default_start_method())
    ours, theirs = context.Pipe(duplex=True)
    call = CaptureCall(tmp_path / "deaf.avi", tmp_path / "result.npz", CaptureOptions(), None, None)
    child = context.Process(target=_child_main, args=(theirs, scripted_capture, call), daemon=True)
    child.start()
    theirs.close()
    assert ours.recv()[0] == "progress"  # it is running (and would sleep for 60 s)
    ours.close()  # what a killed server leaves behind
    child.join(10)
    assert child.exitcode == EXIT_ORPHANED
