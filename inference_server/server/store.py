"""The job queue: every job's state in memory, each change saved through ``JobFiles`` before it shows.

The files are the truth across restarts: loading them re-queues jobs that were queued or running when
the server stopped (with a note), and keeps finished jobs and their results. One lock guards the
records; a condition wakes the worker when a job is queued and event streams when anything changes.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .job_files import JobFiles, JobNotFoundError
from .job_record import QUEUED, RUNNING, JobRecord, StageProgress

log = logging.getLogger(__name__)

PROGRESS_SAVE_INTERVAL_S = 1.0  # progress is saved at most this often; state changes are saved at once


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JobStore:
    """Thread-safe records with atomic persistence; ``version`` counts changes for event streams."""

    def __init__(self, data_dir: Path) -> None:
        self.files = JobFiles(data_dir)
        self.jobs_dir = self.files.jobs_dir
        self._cond = threading.Condition()
        self._jobs: dict[str, JobRecord] = {}
        self._versions: dict[str, int] = {}
        self._saved_at: dict[str, float] = {}
        self._next_seq = 0
        self._load()

    # -- persistence --------------------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        return self.files.job_dir(job_id)

    def _save(self, record: JobRecord) -> None:
        self.files.save(record)
        self._saved_at[record.id] = time.monotonic()

    def _load(self) -> None:
        """Read every job.json; re-queue interrupted jobs in creation order, each with a note."""
        restarted = now_iso()
        for record in self.files.read_all():
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

    def record_progress(self, job_id: str, progress: StageProgress) -> None:
        """Keep a stage's latest progress; saved to disk at most once a second (it is re-run after a crash)."""
        with self._cond:
            record = self._jobs.get(job_id)
            if record is None or record.state != RUNNING:
                return
            record.stage = progress.stage
            record.progress[progress.stage] = progress
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
        self.files.remove(job_id)


def _seq(record: JobRecord) -> int:
    return record.seq
