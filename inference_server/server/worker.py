"""The worker: one thread running one job at a time on the device, in queue order.

The runner is injected (``run_capture`` in production, fake stages in tests). Its progress events go
to the store; cancelling sets the job's CancelToken, which the pipeline checks between frames.
Errors become the job's ``error`` with a stable code; unexpected ones are logged with their traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..footage.reader import FootageError
from ..pipeline.model_plan import MissingModelError
from ..pipeline.options import CaptureOptions, OptionsError
from ..pipeline.progress import CancelToken, PipelineCancelled, PipelineError, ProgressEvent
from .job_files import PREVIEW_FILE, RESULT_FILE
from .job_record import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    JobFailure,
    JobOutcome,
    StageProgress,
)
from .store import JobStore, now_iso

log = logging.getLogger(__name__)

Runner = Callable[..., Any]  # run_capture's signature; returns a CaptureSummary
IDLE_WAIT_S = 0.5


def _failure(exc: Exception) -> JobFailure:
    """The job's ``error`` for an exception the runner raised."""
    if isinstance(exc, PipelineError):
        code = "footage_unreadable" if isinstance(exc.__cause__, FootageError) else "pipeline_failed"
        return JobFailure(code=code, message=exc.cause, stage=exc.stage, frame=exc.frame)
    if isinstance(exc, MissingModelError):
        return JobFailure(code="missing_model", message=str(exc), stage="open")
    if isinstance(exc, OptionsError):
        return JobFailure(code="invalid_options", message=str(exc))
    return JobFailure(code="internal_error", message="unexpected error; the details are in the server log")


class JobWorker:
    """Owns the worker thread and the running job's cancel token."""

    def __init__(self, store: JobStore, runner: Runner, *, server_options: dict[str, Any]) -> None:
        self._store, self._runner, self._server_options = store, runner, server_options
        self._lock = threading.Lock()  # orders claim/cancel/delete against each other
        self._current: tuple[str, CancelToken] | None = None
        self._deleted: set[str] = set()  # running jobs deleted by a client: files go when the run ends
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="crowdmocap-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs and cancel the running one; it is re-queued, not marked cancelled."""
        self._stopping.set()
        self._store.wake()
        with self._lock:
            if self._current is not None:
                self._current[1].cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                record = None if self._stopping.is_set() else self._store.claim_next()
                token = CancelToken()
                if record is not None:
                    self._current = (record.id, token)
            if record is None:
                self._store.wait_for_queued(IDLE_WAIT_S, stop=self._stopping.is_set)
                continue
            try:
                self._run(record.id, Path(record.input_path), record.options, token)
            finally:
                with self._lock:
                    self._current = None
                    deleted = record.id in self._deleted
                    self._deleted.discard(record.id)
                if deleted:
                    self._store.remove_files(record.id)

    # -- one job ----------------------------------------------------------------------------------------

    def _run(self, job_id: str, footage: Path, job_options: dict[str, Any], token: CancelToken) -> None:
        folder = self._store.job_dir(job_id)
        wants_preview = bool(job_options.get("preview"))

        def progress(event: ProgressEvent) -> None:
            self._store.record_progress(job_id, StageProgress(**event.as_dict()))

        log.info("job %s: running", job_id)
        try:
            values = {key: value for key, value in job_options.items() if key != "preview"}
            options = CaptureOptions.from_dict({**values, **self._server_options})
            summary = self._runner(
                footage, folder / RESULT_FILE, options,
                preview=folder / PREVIEW_FILE if wants_preview else None, progress=progress, cancel=token,
            )  # fmt: skip
        except PipelineCancelled:
            log.info("job %s: cancelled", job_id)
            self._finish_cancelled(job_id)
            return
        except Exception as exc:
            if isinstance(exc, PipelineError | OptionsError):
                log.warning("job %s: failed: %s", job_id, exc)
            else:
                log.exception("job %s: the runner raised unexpectedly", job_id)
            self._finish(job_id, state=FAILED, error=_failure(exc))
            return
        preview = summary.preview_path is not None and Path(summary.preview_path).is_file()
        result = JobOutcome(people=summary.people, frames=summary.frames, estimator=summary.estimator,
                            pose_backend=summary.pose_backend, warnings=tuple(summary.warnings),
                            seconds=float(summary.seconds), preview=preview)  # fmt: skip
        log.info("job %s: done, %d people in %.1f s", job_id, summary.people, summary.seconds)
        self._finish(job_id, state=DONE, summary=result)

    def _finish_cancelled(self, job_id: str) -> None:
        if self._stopping.is_set():  # server shutdown, not the client: run it again next start
            self._update(job_id, state=QUEUED, started=None, stage=None, progress={})
            self._note(job_id, f"interrupted by a server shutdown at {now_iso()}; re-queued")
            return
        self._finish(job_id, state=CANCELLED)

    def _finish(self, job_id: str, **changes: Any) -> None:
        self._update(job_id, finished=now_iso(), **changes)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            if job_id in self._deleted:
                return
            self._store.update(job_id, **changes)

    def _note(self, job_id: str, note: str) -> None:
        with self._lock:
            if job_id not in self._deleted:
                self._store.add_note(job_id, note)

    # -- requests from clients -------------------------------------------------------------------------

    def cancel(self, job_id: str) -> str:
        """Cancel a queued job at once, or ask the running one to stop; returns the state it had."""
        with self._lock:
            state = self._store.get(job_id).state
            if state == QUEUED:
                self._store.update(job_id, state=CANCELLED, finished=now_iso())
            elif state == RUNNING and self._current is not None and self._current[0] == job_id:
                self._current[1].cancel()
                self._store.add_note(job_id, f"cancel requested at {now_iso()}")
            return state

    def delete(self, job_id: str) -> None:
        """Forget the job and remove its folder; a running job is cancelled and its folder removed after."""
        with self._lock:
            self._store.get(job_id)  # raises JobNotFoundError
            running = self._current is not None and self._current[0] == job_id
            if running and self._current is not None:
                self._current[1].cancel()
                self._deleted.add(job_id)
            self._store.forget(job_id)
        if not running:
            self._store.remove_files(job_id)
