"""The worker: one thread running one job at a time on the device, in queue order.

The runner is injected: ``IsolatedRunner(run_capture)`` in production (each capture in a supervised child
process), fake stages in tests. Its progress events go to the store; cancelling sets the job's
CancelToken, which the pipeline checks between frames. Errors become the job's ``error`` with a stable
code (``failures.py``); unexpected ones are logged with their traceback.

The thread itself never dies: whatever goes wrong around a job (a full disk while claiming it or
recording its end) is logged, reported in ``problems`` (``/v1/health`` says "degraded") and retried
with a growing pause, and the queue moves on once it clears. What clients read never names the
server's own paths: they see the name they uploaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..pipeline.options import CaptureOptions
from ..pipeline.progress import CancelToken, PipelineCancelled, ProgressEvent
from .failures import failure_of, is_expected
from .job_files import PREVIEW_FILE, RESULT_FILE
from .job_record import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobFailure, JobOutcome, JobRecord, StageProgress
from .store import JobStore, now_iso

log = logging.getLogger(__name__)

Runner = Callable[..., Any]  # run_capture's signature; returns a CaptureSummary
IDLE_WAIT_S = 0.5
RETRY_S, MAX_RETRY_S = 1.0, 30.0  # pause after a failure around a job, doubling up to the maximum


class PrivatePaths:
    """Rewrites text for clients: the job's footage path becomes the name the client gave, its folder and
    the data folder become words."""

    def __init__(self, record: JobRecord, job_folder: Path, data_dir: Path) -> None:
        footage = Path(record.input_path)
        self._pairs = [(str(footage), record.source_name), (str(footage.resolve()), record.source_name),
                       (str(job_folder), "<job folder>"), (str(data_dir), "<server data folder>")]  # fmt: skip

    def __call__(self, text: str) -> str:
        for private, shown in self._pairs:
            text = text.replace(private, shown)
        return text

    def failure(self, failure: JobFailure) -> JobFailure:
        return JobFailure(code=failure.code, message=self(failure.message), stage=failure.stage, frame=failure.frame)


class JobWorker:
    """Owns the worker thread and the running job's cancel token."""

    def __init__(self, store: JobStore, runner: Runner, *, server_options: dict[str, Any]) -> None:
        self._store, self._runner, self._server_options = store, runner, server_options
        self._lock = threading.Lock()  # orders claim/cancel/delete against each other
        self._current: tuple[str, CancelToken] | None = None
        self._deleted: set[str] = set()  # running jobs deleted by a client: files go when the run ends
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._trouble: str | None = None  # why the last turn of the loop failed, until one succeeds

    # -- life cycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="crowdmocap-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs and cancel the running one; it is re-queued (see ``interrupted``), not cancelled."""
        self._stopping.set()
        self._store.wake()
        with self._lock:
            if self._current is not None:
                self._current[1].cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def problems(self) -> list[str]:
        """Why the worker is not taking jobs as it should (empty when healthy), for ``/v1/health``."""
        alive = self._thread is not None and self._thread.is_alive()
        stopped = [] if alive or self._thread is None or self._stopping.is_set() else ["the worker thread stopped"]
        return stopped + ([self._trouble] if self._trouble else [])

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self._turn()
            except Exception as exc:  # the thread must outlive anything a turn meets (a full disk above all)
                failures += 1
                pause = min(MAX_RETRY_S, RETRY_S * 2 ** (failures - 1))
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "an unexpected error: see the log"
                self._trouble = f"the worker cannot take or record jobs ({why}); retrying every {pause:g} s"
                log.log(logging.ERROR if failures == 1 else logging.WARNING, "worker: %s", exc,
                        exc_info=failures == 1 and not isinstance(exc, OSError))  # fmt: skip
                self._stopping.wait(pause)
            else:
                failures, self._trouble = 0, None

    def _turn(self) -> None:
        """Save what is pending, then run the next queued job or wait for one."""
        self._store.save_pending()  # raises while the disk still refuses: no new job starts before
        with self._lock:
            record = None if self._stopping.is_set() else self._store.claim_next()  # OSError: stays queued
            token = CancelToken()
            if record is not None:
                self._current = (record.id, token)
        if record is None:
            self._store.wait_for_queued(IDLE_WAIT_S, stop=self._stopping.is_set)
            return
        try:
            self._run(record, token)
        finally:
            with self._lock:
                self._current = None
                deleted = record.id in self._deleted
                self._deleted.discard(record.id)
            if deleted:
                self._store.remove_files(record.id)

    # -- one job ----------------------------------------------------------------------------------------

    def _run(self, record: JobRecord, token: CancelToken) -> None:
        job_id, folder = record.id, self._store.job_dir(record.id)
        wants_preview = bool(record.options.get("preview"))
        shown = PrivatePaths(record, folder, self._store.jobs_dir.parent)

        def progress(event: ProgressEvent) -> None:
            self._store.record_progress(job_id, StageProgress(**{**event.as_dict(), "message": shown(event.message)}))

        log.info("job %s: running", job_id)
        try:
            values = {key: value for key, value in record.options.items() if key != "preview"}
            options = CaptureOptions.from_dict({**values, **self._server_options})
            summary = self._runner(
                Path(record.input_path), folder / RESULT_FILE, options,
                preview=folder / PREVIEW_FILE if wants_preview else None, progress=progress, cancel=token,
                footage_name=record.source_name,
            )  # fmt: skip
        except PipelineCancelled:
            log.info("job %s: cancelled", job_id)
            self._finish_cancelled(job_id)
            return
        except Exception as exc:
            if is_expected(exc):
                log.warning("job %s: failed: %s", job_id, exc)
            else:
                log.exception("job %s: the runner raised unexpectedly", job_id)
            self._finish(job_id, state=FAILED, error=shown.failure(failure_of(exc)))
            return
        preview = summary.preview_path is not None and Path(summary.preview_path).is_file()
        result = JobOutcome(people=summary.people, frames=summary.frames, estimator=summary.estimator,
                            pose_backend=summary.pose_backend, warnings=tuple(map(shown, summary.warnings)),
                            seconds=float(summary.seconds), preview=preview)  # fmt: skip
        log.info("job %s: done, %d people in %.1f s", job_id, summary.people, summary.seconds)
        self._finish(job_id, state=DONE, summary=result)

    def _finish_cancelled(self, job_id: str) -> None:
        if self._stopping.is_set():  # server shutdown, not the client: run it again next start (once)
            with self._lock:
                if job_id not in self._deleted:
                    self._store.interrupt(job_id, f"a server shutdown at {now_iso()}")
            return
        self._finish(job_id, state=CANCELLED)

    def _finish(self, job_id: str, **changes: Any) -> None:
        """Record the job's end; on a full disk it shows at once and is saved when space returns."""
        with self._lock:
            if job_id not in self._deleted:
                self._store.settle(job_id, finished=now_iso(), **changes)

    # -- requests from clients -------------------------------------------------------------------------

    def cancel(self, job_id: str) -> str:
        """Cancel a queued job at once, or ask the running one to stop; returns the state it had."""
        with self._lock:
            state = self._store.get(job_id).state
            if state == QUEUED:
                self._store.update(job_id, state=CANCELLED, finished=now_iso())
            elif state == RUNNING and self._current is not None and self._current[0] == job_id:
                self._current[1].cancel()
                notes = [*self._store.get(job_id).notes, f"cancel requested at {now_iso()}"]
                self._store.settle(job_id, cancel_requested=True, notes=notes)  # honoured even after a crash
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
