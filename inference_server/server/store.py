"""The job queue: every job's state in memory, each change saved through ``JobFiles`` before it shows.

The files are the truth across restarts: loading them re-queues jobs that were queued or running when
the server stopped (with a note; see ``interrupted`` for a job stopped twice), and keeps finished jobs
and their results. One lock guards the records; a condition wakes the worker when a job is queued and
event streams when anything changes.

A record that cannot be saved (a full disk) is not lost: a job's end is kept in memory, shown to
clients, re-saved by ``save_pending`` once space returns, and reported in ``problems`` until then.
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
from .job_record import QUEUED, RUNNING, JobRecord, StageProgress, interrupted

log = logging.getLogger(__name__)

PROGRESS_SAVE_INTERVAL_S = 1.0  # progress is saved at most this often; state changes are saved at once


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JobStore:
    """Thread-safe records with atomic persistence; ``version`` counts changes for event streams."""

    def __init__(self, data_dir: Path, servable: Callable[[JobRecord], object] | None = None) -> None:
        self.files = JobFiles(data_dir, servable)
        self.jobs_dir = self.files.jobs_dir
        self._cond = threading.Condition()
        self._jobs: dict[str, JobRecord] = {}
        self._versions: dict[str, int] = {}
        self._saved_at: dict[str, float] = {}
        self._unsaved: set[str] = set()  # changed in memory, not yet on disk (the save failed)
        self._save_error: str | None = None  # why the last save failed, while any record is unsaved
        self._next_seq = 0
        self._load()

    # -- persistence --------------------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        return self.files.job_dir(job_id)

    def _save(self, record: JobRecord, *, keep_unsaved: bool = False) -> None:
        """Write the record; on OSError raise, or with ``keep_unsaved`` remember it for ``save_pending``."""
        try:
            self.files.save(record)
        except OSError as exc:
            self._save_error = f"job records cannot be saved in the server's data folder ({exc.strerror or exc})"
            log.warning("job %s: record not saved (%s)", record.id, exc)
            if not keep_unsaved:
                raise
            self._unsaved.add(record.id)
            return
        self._saved_at[record.id] = time.monotonic()
        self._unsaved.discard(record.id)
        if not self._unsaved:
            self._save_error = None

    def _load(self) -> None:
        """Read every job.json; re-queue (or fail, see ``interrupted``) interrupted jobs, each with a note."""
        restarted = now_iso()
        for loaded in self.files.read_all():
            record = loaded
            if record.state == RUNNING:
                record = interrupted(loaded, f"a server restart at {restarted}", restarted)
                self._save(record, keep_unsaved=True)
            elif record.state == QUEUED:
                record.notes.append(f"the server restarted at {restarted}; still queued")
                self._save(record, keep_unsaved=True)
            self._jobs[record.id] = record
            self._versions[record.id] = 0
            self._next_seq = max(self._next_seq, record.seq + 1)
        if self._jobs:
            log.info("loaded %d job(s) from %s", len(self._jobs), self.jobs_dir)

    def save_pending(self) -> None:
        """Save every record whose save failed; raises the OSError while the disk still refuses."""
        with self._cond:
            for job_id in sorted(self._unsaved):
                record = self._jobs.get(job_id)
                if record is None:
                    self._unsaved.discard(job_id)
                else:
                    self._save(record)
            self._save_error = None

    @property
    def problems(self) -> list[str]:
        """What keeps the store from working as it should (empty when healthy), for ``/v1/health``."""
        with self._cond:
            return [self._save_error] if self._save_error else []

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
        """Change fields and save at once (state changes must survive a crash); OSError changes nothing."""
        return self._change(job_id, changes, keep_unsaved=False)

    def settle(self, job_id: str, **changes: Any) -> JobRecord:
        """Change fields and save; if the save fails the change still shows and is saved later.

        For what has already happened (a job's end, a note): refusing it would leave a finished job
        "running" forever on a full disk.
        """
        return self._change(job_id, changes, keep_unsaved=True)

    def interrupt(self, job_id: str, cause: str) -> JobRecord:
        """The running job was stopped by the server (see ``interrupted``): re-queue, fail or cancel it."""
        with self._cond:
            return self._put(interrupted(self._require(job_id), cause, now_iso()), keep_unsaved=True)

    def _change(self, job_id: str, changes: dict[str, Any], *, keep_unsaved: bool) -> JobRecord:
        with self._cond:
            record = dataclasses.replace(self._require(job_id), **copy.deepcopy(changes))
            return self._put(record, keep_unsaved=keep_unsaved)

    def _put(self, record: JobRecord, *, keep_unsaved: bool) -> JobRecord:
        job_id = record.id
        with self._cond:
            self._save(record, keep_unsaved=keep_unsaved)  # without keep_unsaved, memory changes once the file did
            self._jobs[job_id] = record
            self._versions[job_id] += 1
            self._cond.notify_all()
            return copy.deepcopy(record)

    def add_note(self, job_id: str, note: str) -> None:
        with self._cond:
            record = self._require(job_id)
            self.settle(job_id, notes=[*record.notes, note])

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
            self._unsaved.discard(job_id)
            self._versions.pop(job_id, None)
            self._saved_at.pop(job_id, None)
            self._cond.notify_all()

    def remove_files(self, job_id: str) -> None:
        self.files.remove(job_id)


def _seq(record: JobRecord) -> int:
    return record.seq
