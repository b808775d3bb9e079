"""The job store: every job's state in memory, mirrored to ``jobs/<id>/job.json`` on each change.

The files are the truth across restarts: loading them re-queues jobs that were queued or running when
the server stopped (with a note), and keeps finished jobs and their results. Every write is atomic.
One lock guards the records; a condition wakes the worker when a job is queued.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .atomic import atomic_write_json, remove_stale_temps
from .ids import is_valid_id

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
RESULT_FILE = "result.npz"
RESULT_JSON_FILE = "result.json"
PREVIEW_FILE = "preview.mp4"
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
TERMINAL = frozenset({DONE, FAILED, CANCELLED})
PROGRESS_SAVE_INTERVAL_S = 1.0  # progress is saved at most this often; state changes are saved at once


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class JobRecord:
    """One job as stored in ``job.json``; ``input_path`` is a server path the client never sees."""

    id: str
    seq: int  # creation order; the queue runs in this order
    created: str
    source_kind: str  # "upload" or "path"
    source_name: str  # the upload's file name or the path the client gave
    input_path: str
    options: dict[str, Any]  # JobOptions as JSON
    state: str = QUEUED
    started: str | None = None
    finished: str | None = None
    stage: str | None = None  # the stage now running (or last run)
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> ProgressEvent fields
    error: dict[str, Any] | None = None  # {code, message, stage, frame}
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> JobRecord:
        known = {f.name for f in fields(cls)}
        record = cls(**{key: value for key, value in raw.items() if key in known})
        if record.state not in STATES or not is_valid_id(record.id):
            raise ValueError(f"bad state {record.state!r} or id {record.id!r}")
        return record


class JobNotFoundError(KeyError):
    """No job with that id (never created, or deleted)."""


class JobStore:
    """Thread-safe records with atomic persistence; ``version`` counts changes for event streams."""

    def __init__(self, data_dir: Path) -> None:
        self.jobs_dir = data_dir / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._cond = threading.Condition()
        self._jobs: dict[str, JobRecord] = {}
        self._versions: dict[str, int] = {}
        self._saved_at: dict[str, float] = {}
        self._next_seq = 0
        self._load()

    # -- persistence --------------------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        if not is_valid_id(job_id):
            raise JobNotFoundError(job_id)
        return self.jobs_dir / job_id

    def _save(self, record: JobRecord) -> None:
        atomic_write_json(self.jobs_dir / record.id / JOB_FILE, asdict(record))
        self._saved_at[record.id] = time.monotonic()

    def _load(self) -> None:
        """Read every job.json; re-queue interrupted jobs in creation order, each with a note."""
        restarted = now_iso()
        for folder in sorted(self.jobs_dir.iterdir()):
            if not folder.is_dir():
                continue
            remove_stale_temps(folder)
            try:
                record = JobRecord.from_json(json.loads((folder / JOB_FILE).read_text()))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping job folder %s: unreadable %s (%s)", folder, JOB_FILE, exc)
                continue
            if record.id != folder.name:
                log.warning("skipping job folder %s: it holds job %s", folder, record.id)
                continue
            if record.state == RUNNING:
                record.state, record.started, record.stage, record.progress = QUEUED, None, None, {}
                record.notes.append(f"interrupted by a server restart at {restarted}; re-queued")
                self._save(record)
            elif record.state == QUEUED:
                record.notes.append(f"the server restarted at {restarted}; still queued")
                self._save(record)
            self._jobs[record.id] = record
            self._versions[record.id] = 0
            self._next_seq = max(self._next_seq, record.seq + 1)
        if self._jobs:
            log.info("loaded %d job(s) from %s", len(self._jobs), self.jobs_dir)

    # -- reading --------------------------------------------------------------------------------------

    def get(self, job_id: str) -> JobRecord:
        """A copy of the record, safe to read while the worker changes the original."""
        with self._cond:
            return copy.deepcopy(self._require(job_id))

    def snapshot(self, job_id: str) -> tuple[int, JobRecord, int | None] | None:
        """(version, record copy, queue position), or None when the job is gone."""
        with self._cond:
            record = self._jobs.get(job_id)
            if record is None:
                return None
            return self._versions[job_id], copy.deepcopy(record), self._position(record)

    def list(self) -> list[tuple[JobRecord, int | None]]:
        """Every job with its queue position, oldest first."""
        with self._cond:
            return [(copy.deepcopy(r), self._position(r)) for r in sorted(self._jobs.values(), key=_seq)]

    def queue_position(self, job_id: str) -> int | None:
        with self._cond:
            return self._position(self._require(job_id))

    def _position(self, record: JobRecord) -> int | None:
        """How many jobs run before this one (the running one included); None unless queued."""
        if record.state != QUEUED:
            return None
        ahead = sum(1 for r in self._jobs.values() if r.state == RUNNING or (r.state == QUEUED and r.seq < record.seq))
        return ahead

    def _require(self, job_id: str) -> JobRecord:
        record = self._jobs.get(job_id)
        if record is None:
            raise JobNotFoundError(job_id)
        return record

    # -- changing -------------------------------------------------------------------------------------

    def create(self, job_id: str, *, source_kind: str, source_name: str, input_path: Path, options: dict) -> JobRecord:
        """Register a queued job; its folder must exist (the upload may already have been moved in)."""
        with self._cond:
            record = JobRecord(
                id=job_id,
                seq=self._next_seq,
                created=now_iso(),
                source_kind=source_kind,
                source_name=source_name,
                input_path=str(input_path),
                options=options,
            )
            self._next_seq += 1
            self._save(record)
            self._jobs[job_id] = record
            self._versions[job_id] = 0
            self._cond.notify_all()
            return copy.deepcopy(record)

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Change fields and save at once (state changes must survive a crash)."""
        with self._cond:
            record = dataclasses.replace(self._require(job_id), **copy.deepcopy(changes))
            self._save(record)  # memory changes only once the file did
            self._jobs[job_id] = record
            self._versions[job_id] += 1
            self._cond.notify_all()
            return copy.deepcopy(record)

    def add_note(self, job_id: str, note: str) -> None:
        with self._cond:
            record = self._require(job_id)
            self.update(job_id, notes=[*record.notes, note])

    def record_progress(self, job_id: str, stage: str, values: dict[str, Any]) -> None:
        """Keep a stage's latest progress; saved to disk at most once a second (it is re-run after a crash)."""
        with self._cond:
            record = self._jobs.get(job_id)
            if record is None or record.state != RUNNING:
                return
            record.stage = stage
            record.progress[stage] = values
            self._versions[job_id] += 1
            if time.monotonic() - self._saved_at.get(job_id, 0.0) >= PROGRESS_SAVE_INTERVAL_S:
                try:
                    self._save(record)
                except OSError as exc:  # progress is re-made by a re-run; a failed save must not fail the job
                    log.warning("job %s: progress not saved (%s)", job_id, exc)
            self._cond.notify_all()

    def claim_next(self) -> JobRecord | None:
        """Mark the oldest queued job running and return it, or None when the queue is empty."""
        with self._cond:
            queued = [r for r in self._jobs.values() if r.state == QUEUED]
            if not queued:
                return None
            record = min(queued, key=_seq)
            return self.update(record.id, state=RUNNING, started=now_iso(), stage=None, progress={}, error=None)

    def wait_for_queued(self, timeout: float, stop: Callable[[], bool] = lambda: False) -> bool:
        """Block until some job is queued, ``stop()`` holds (see ``wake``) or the timeout passes."""
        with self._cond:
            return self._cond.wait_for(lambda: stop() or any(r.state == QUEUED for r in self._jobs.values()), timeout)

    def wake(self) -> None:
        """Wake every waiter so it re-checks its condition (the worker's stop flag)."""
        with self._cond:
            self._cond.notify_all()

    def forget(self, job_id: str) -> None:
        """Drop the record (its folder is removed by ``remove_files`` once nothing writes into it)."""
        with self._cond:
            self._require(job_id)
            del self._jobs[job_id]
            self._versions.pop(job_id, None)
            self._saved_at.pop(job_id, None)
            self._cond.notify_all()

    def remove_files(self, job_id: str) -> None:
        folder = self.job_dir(job_id)
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(folder)


def _seq(record: JobRecord) -> int:
    return record.seq
