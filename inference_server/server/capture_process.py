"""Each capture runs in a child process that the worker supervises, so a native crash fails one job only.

OpenCV, MediaPipe, onnxruntime and torch are native code: a segfault or an abort in any of them ends the
process it runs in. ``IsolatedRunner`` has ``run_capture``'s signature but runs the capture in a child and
talks to it over one pipe: progress events and the outcome come back, a cancel goes down. If the child
dies without an outcome the job fails with ``capture_crashed`` (naming the signal and the stage it was
in) and the server carries on. A cancel the child does not honour within ``cancel_grace_s`` (a stage
stuck in a long native call) kills it. A child whose server died (the pipe closes) exits at once rather
than finish a capture nobody will collect.

Children start from a fork server that has the pipeline imported already (``spawn`` where there is no
fork server), so a job does not pay the pipeline's import time, and no child inherits the server's threads.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..pipeline.progress import CancelToken, PipelineCancelled, ProgressCallback, ProgressEvent
from .failures import CaptureFailed, failure_of, is_expected
from .job_record import JobFailure

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often the supervisor looks at the cancel token and the child while no message comes
CANCEL_GRACE_S = 10.0  # a child that has not stopped this long after a cancel is killed
EXIT_ORPHANED = 75  # the child's exit status when its server went away
PRELOAD = ["inference_server.pipeline.run"]  # what the fork server imports once, for every child


@dataclass(frozen=True)
class CaptureCall:
    """One ``run_capture`` call's arguments, as sent to the child."""

    footage: str | Path
    output: str | Path
    options: Any
    preview: str | Path | None
    footage_name: str | None


def default_start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class IsolatedRunner:
    """``run_capture`` in a child process: same call, same outcomes, and a crash is a ``CaptureFailed``.

    ``runner`` must be picklable (a module-level function, or a ``functools.partial`` of one with
    picklable arguments): the child receives it by name.
    """

    def __init__(self, runner: Any, *, start_method: str | None = None, cancel_grace_s: float = CANCEL_GRACE_S) -> None:
        self.runner, self.cancel_grace_s = runner, cancel_grace_s
        self._context = multiprocessing.get_context(start_method or default_start_method())
        if self._context.get_start_method() == "forkserver":
            self._context.set_forkserver_preload(PRELOAD)

    def __call__(
        self,
        footage: str | Path,
        output: str | Path,
        options: Any,
        *,
        preview: str | Path | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        footage_name: str | None = None,
    ) -> Any:
        cancel = cancel or CancelToken()
        call = CaptureCall(footage, output, options, preview, footage_name)
        ours, theirs = self._context.Pipe(duplex=True)
        child = self._context.Process(target=_child_main, args=(theirs, self.runner, call), name="crowdmocap-capture",
                                      daemon=True)  # fmt: skip
        child.start()
        theirs.close()  # the child holds the only other end: its death reads as end-of-file here
        log.info("capture process %d started", child.pid)
        try:
            return _supervise(child, ours, progress, cancel, self.cancel_grace_s)
        finally:
            ours.close()
            _reap(child)


def _supervise(
    child: multiprocessing.process.BaseProcess,
    pipe: Connection,
    progress: ProgressCallback | None,
    cancel: CancelToken,
    grace_s: float,
) -> Any:
    """Relay the child's messages until its outcome; raise what ``run_capture`` would have raised."""
    last: ProgressEvent | None = None
    cancel_sent: float | None = None
    while True:
        if cancel.cancelled and cancel_sent is None:
            cancel_sent = time.monotonic()
            _send_cancel(pipe)
        if cancel_sent is not None and time.monotonic() - cancel_sent > grace_s:
            log.warning("capture process %d ignored the cancel for %.0f s; killing it", child.pid, grace_s)
            child.kill()
            raise PipelineCancelled("cancelled (the capture process was stopped)")
        try:
            message = pipe.recv() if pipe.poll(POLL_S) else None
        except (EOFError, OSError):
            break  # the child is gone without an outcome
        if message is None:
            if not child.is_alive() and not pipe.poll(0):
                break
            continue
        kind, payload = message
        if kind == "progress":
            last = ProgressEvent(**payload)
            if progress is not None:
                progress(last)
        elif kind == "done":
            return payload
        elif kind == "cancelled":
            raise PipelineCancelled("cancelled")
        elif kind == "failed":
            raise CaptureFailed(payload)
    child.join(5.0)
    if cancel.cancelled:  # asked to stop and then died: the client's cancel is what happened
        raise PipelineCancelled("cancelled (the capture process ended)")
    raise CaptureFailed(crash_failure(child.exitcode, last))


def crash_failure(exitcode: int | None, last: ProgressEvent | None) -> JobFailure:
    """The failure of a child that ended without an outcome: how it died and what it was doing."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"was killed by signal {-exitcode}"
        if exitcode == -signal.SIGKILL:
            how += " (often the system running out of memory)"
    else:
        how = f"exited with status {exitcode}"
    where = ""
    if last is not None:
        where = f" during stage '{last.stage}'"
        if last.total:
            where += f" after {last.done} of {last.total} {last.unit}"
    message = (f"the capture process {how}{where}: a native library (video decoding, a pose model, torch) "
               "crashed on this footage; the server is still running and its log has the details")  # fmt: skip
    return JobFailure(code="capture_crashed", message=message, stage=None if last is None else last.stage)


def _send_cancel(pipe: Connection) -> None:
    with contextlib.suppress(OSError):  # the child is already gone; the loop finds out
        pipe.send(("cancel", None))


def _reap(child: multiprocessing.process.BaseProcess) -> None:
    """Make sure the child is gone: it has sent its outcome (or died); wait briefly, then kill."""
    child.join(5.0)
    if child.is_alive():
        child.kill()
        child.join(5.0)
    child.close()


# -- the child ------------------------------------------------------------------------------------------


def _child_main(pipe: Connection, runner: Any, call: CaptureCall) -> None:
    """Run one capture and send its outcome; every outcome, including a Python error, is a message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which cancels us
    # Started as a daemon, so the server's exit ends it; but a daemon may not start processes, and the
    # temporal fit's workers are processes. Its lifetime is its supervisor's business (killed on an ignored
    # cancel, gone when the pipe closes), so from here on it is not a daemon to itself.
    multiprocessing.current_process().daemon = False
    cancel = CancelToken()
    sending = threading.Lock()

    def send(kind: str, payload: Any) -> None:
        with sending:
            pipe.send((kind, payload))

    threading.Thread(target=_listen, args=(pipe, cancel), name="crowdmocap-cancel", daemon=True).start()
    try:
        summary = runner(call.footage, call.output, call.options, preview=call.preview, cancel=cancel,
                         progress=lambda event: send("progress", event.as_dict()),
                         footage_name=call.footage_name)  # fmt: skip
    except PipelineCancelled:
        send("cancelled", None)
    except BaseException as exc:  # the server decides what a failure means; nothing escapes
        if not is_expected(exc):
            traceback.print_exc(file=sys.stderr)
        send("failed", failure_of(exc))
    else:
        send("done", summary)


def _listen(pipe: Connection, cancel: CancelToken) -> None:
    """Cancel on the server's word; exit when the server is gone (its end of the pipe closed)."""
    while True:
        try:
            kind, _ = pipe.recv()
        except (EOFError, OSError):
            os._exit(EXIT_ORPHANED)
        if kind == "cancel":
            cancel.cancel()
