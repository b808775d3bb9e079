"""Runners with ``run_capture``'s signature that a capture child process can be given (module level, so
picklable): they finish, crash natively, fail, or wait for a cancel, on cue from the footage's name.

    crash*.avi   reports two frames of the 'poses' stage, then ``os.abort()`` (a native crash: SIGABRT)
    exit*.avi    reports a frame, then ``os._exit(3)`` (a library calling exit)
    wait*.avi    reports a frame, then waits for the cancel (honours it)
    deaf*.avi    reports a frame, then sleeps through any cancel (a long native call)
    crashcancel*.avi  waits for the cancel, then aborts (a crash while stopping)
    unreadable*.avi   raises the pipeline's footage error naming the footage's path
    full*.avi    raises the pipeline's write error caused by a full disk
    workers*.avi starts the temporal fit's worker processes and says how many ran, in its warnings
    anything else: three frames, a real result file, a summary whose warning names the footage's path
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Any

from crowdmocap_addon.core.result.writer import write_result
from inference_server.footage.reader import FootageError
from inference_server.pipeline.progress import CancelToken, PipelineError, ProgressEvent
from inference_server.pipeline.run import CaptureSummary
from tests.helpers.captures import make_capture

FRAMES = 10


def _frame(progress: Any, done: int) -> None:
    progress(ProgressEvent(stage="poses", done=done, total=FRAMES, unit="frames", eta_s=1.0))


def _wait_for_cancel(cancel: CancelToken, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cancel.cancelled and time.monotonic() < deadline:
        time.sleep(0.01)


def scripted_capture(
    footage: str | Path,
    output: str | Path,
    options: Any,
    *,
    preview: Any = None,
    progress: Any = None,
    cancel: CancelToken,
    footage_name: str | None = None,
) -> CaptureSummary:
    """Behave as the footage's name says (see the module docstring)."""
    name = Path(footage).name
    _frame(progress, 1)
    if name.startswith("crashcancel"):
        _wait_for_cancel(cancel)
        os.abort()
    if name.startswith("crash"):
        _frame(progress, 2)
        os.abort()
    if name.startswith("exit"):
        os._exit(3)
    if name.startswith("wait"):
        _wait_for_cancel(cancel)
        cancel.check()
    if name.startswith("deaf"):
        time.sleep(60)
    if name.startswith("unreadable"):
        try:
            raise FootageError(f"{footage}: cannot be read as video (Invalid data found)")
        except FootageError as exc:
            raise PipelineError("open", str(exc)) from exc
    if name.startswith("workers"):
        return _with_fit_workers(output)
    if name.startswith("full"):
        try:
            raise OSError(errno.ENOSPC, "No space left on device", str(output))
        except OSError as exc:
            raise PipelineError("write", f"the result file {output} cannot be written ({exc})") from exc
    for done in (2, 3):
        cancel.check()
        _frame(progress, done)
    write_result(output, make_capture(frames=8))
    warnings = [f"{footage}: 2 frames were dropped", f"recorded as {footage_name}"]
    return CaptureSummary(Path(output), None, 3, 3, "lift", "blazepose", warnings, 0.1)


def _with_fit_workers(output: str | Path) -> CaptureSummary:
    """The temporal fit's worker processes, started as a capture's fit starts them: the child's process id
    and its workers'."""
    from inference_server.motion.temporal_fit.fit import FitSettings
    from inference_server.motion.temporal_fit.workers import fit_workers

    with fit_workers(3, FitSettings(workers=2)) as workers:
        assert workers.pool is not None, "no worker processes in the capture child"
        asked = [workers.pool.submit(os.getpid) for _ in range(2)]
        pids = sorted({answer.result() for answer in asked})
    warnings = [f"child {os.getpid()}", *(f"worker {pid}" for pid in pids)]
    return CaptureSummary(Path(output), None, 0, 0, "lift", "blazepose", warnings, 0.1)
