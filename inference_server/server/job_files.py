"""Where jobs live on disk: ``jobs/<id>/`` holds ``job.json`` (written atomically), the input and the outputs.

Persistence only: which jobs run, and in what order, is the queue's business (``store.JobStore``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from .atomic import atomic_write_json, remove_stale_temps
from .ids import is_valid_id
from .job_record import JobRecord

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
RESULT_FILE = "result.npz"
RESULT_JSON_FILE = "result.json"
PREVIEW_FILE = "preview.mp4"


class JobNotFoundError(KeyError):
    """No job with that id (never created, or deleted)."""


class JobFiles:
    """The jobs folder: one sub-folder per job id."""

    def __init__(self, data_dir: Path, servable: Callable[[JobRecord], object] | None = None) -> None:
        """``servable`` raises ValueError for a record clients could not be shown (its options, say): such
        a record is quarantined on load like a damaged one, instead of failing every job listing."""
        self.servable = servable
        self.jobs_dir = data_dir / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.quarantine_dir = data_dir / "quarantine"  # job folders whose job.json is damaged (see _quarantine)

    def job_dir(self, job_id: str) -> Path:
        """The job's folder; an id that is not one of ours never becomes a path."""
        if not is_valid_id(job_id):
            raise JobNotFoundError(job_id)
        return self.jobs_dir / job_id

    def save(self, record: JobRecord) -> None:
        atomic_write_json(self.job_dir(record.id) / JOB_FILE, record.to_json())

    def read_all(self) -> list[JobRecord]:
        """Every readable ``job.json``, oldest first; unreadable or misplaced ones are logged and skipped."""
        records = []
        for folder in sorted(self.jobs_dir.iterdir()):
            if not folder.is_dir():
                continue
            remove_stale_temps(folder)
            try:
                record = JobRecord.from_json(json.loads((folder / JOB_FILE).read_text()))
                if self.servable is not None:
                    self.servable(record)
            except (OSError, ValueError, TypeError) as exc:
                self._quarantine(folder, exc)
                continue
            if record.id != folder.name:
                log.warning("skipping job folder %s: it holds job %s", folder, record.id)
                continue
            records.append(record)
        return sorted(records, key=lambda r: r.seq)

    def _quarantine(self, folder: Path, reason: Exception) -> None:
        """Move a job folder whose job.json cannot be a job out of the jobs folder, keeping its files for a look.

        Skipping it would leave it to trip every later start; deleting it would lose the user's files.
        """
        target = self.quarantine_dir / folder.name
        try:
            self.quarantine_dir.mkdir(exist_ok=True)
            if target.exists():
                target = self.quarantine_dir / f"{folder.name}.{len(list(self.quarantine_dir.iterdir()))}"
            folder.rename(target)
            log.warning("quarantined job folder %s to %s: its %s is not a job record (%s)", folder, target,
                        JOB_FILE, reason)  # fmt: skip
        except OSError as exc:
            log.warning("skipping job folder %s: unreadable %s (%s); could not move it aside (%s)", folder,
                        JOB_FILE, reason, exc)  # fmt: skip

    def remove(self, job_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.job_dir(job_id))
