"""One capture as seen from Blender: upload, queue, progress, download, on a background thread.

The thread never touches ``bpy``; Blender's modal operator reads ``snapshot()`` on a timer and does
the import itself on the main thread. Cancelling stops the upload or cancels the server's job.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .http import ServerClient, ServerError, UploadCancelled

TERMINAL = ("done", "failed", "cancelled")


@dataclass(kw_only=True, frozen=True)
class CaptureSnapshot:
    phase: str  # uploading | queued | running | cancelling | downloading | done | failed | cancelled
    stage: str = ""  # the server's pipeline stage while running
    fraction: float = 0.0  # of the current phase/stage, 0..1
    eta_s: float | None = None
    message: str = ""  # plain-words status or error
    result_path: Path | None = None
    job_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.phase in TERMINAL

    def label(self) -> str:
        """One line for the panel's progress bar."""
        if self.phase == "running" and self.stage:
            eta = f", about {self.eta_s:.0f} s left" if self.eta_s is not None else ""
            return f"{self.stage.capitalize()} {self.fraction:.0%}{eta}"
        return self.message or self.phase.capitalize()


def stage_snapshot(status: dict[str, Any], job_id: str) -> CaptureSnapshot:
    """The panel's view of a server JobStatus while it is queued or running."""
    if status["state"] == "queued":
        ahead = status.get("queue_position") or 0
        return CaptureSnapshot(phase="queued", message=f"Queued ({ahead} job(s) ahead)", job_id=job_id)
    stage = status.get("stage") or ""
    current = next((p for p in status.get("progress", []) if p["stage"] == stage), None)
    fraction = current["done"] / current["total"] if current and current["total"] else 0.0
    return CaptureSnapshot(
        phase="running", stage=stage, fraction=min(fraction, 1.0), eta_s=current and current.get("eta_s"), job_id=job_id
    )


class CaptureJob:
    def __init__(self, client: ServerClient, footage: str | Path, options: dict[str, Any], destination: str | Path,
                 *, poll_s: float = 0.5, stop_wait_s: float = 30.0) -> None:  # fmt: skip
        self.client, self.footage, self.options = client, Path(footage), dict(options)
        self.destination, self.poll_s, self.stop_wait_s = Path(destination), poll_s, stop_wait_s
        self._lock = threading.Lock()
        self._snapshot = CaptureSnapshot(phase="uploading", message="Uploading footage")
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crowdmocap-capture", daemon=True)

    def start(self) -> CaptureJob:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def snapshot(self) -> CaptureSnapshot:
        with self._lock:
            return self._snapshot

    def _set(self, snapshot: CaptureSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def _run(self) -> None:
        job_id = None
        try:

            def uploaded(sent: int, size: int) -> None:
                self._set(CaptureSnapshot(phase="uploading", stage="upload", fraction=sent / size if size else 1.0,
                                          message=f"Uploading footage {sent / size:.0%}" if size else ""))  # fmt: skip

            upload = self.client.upload(self.footage, progress=uploaded, cancelled=self._cancel.is_set)
            status = self.client.submit(upload["upload_id"], self.options)
            job_id = status["id"]
            while status["state"] not in TERMINAL:
                if self._cancel.is_set():
                    status = self._cancel_and_wait(job_id)
                    break
                self._set(stage_snapshot(status, job_id))
                time.sleep(self.poll_s)
                status = self.client.status(job_id)
            self._finish(status, job_id)
        except UploadCancelled:
            self._set(CaptureSnapshot(phase="cancelled", message="Capture cancelled during the upload"))
        except ServerError as exc:
            self._set(CaptureSnapshot(phase="failed", message=str(exc), job_id=job_id))
        except Exception as exc:  # a thread must not die silently: the panel shows what happened
            self._set(CaptureSnapshot(phase="failed", message=f"Unexpected error: {type(exc).__name__}: {exc}",
                                      job_id=job_id))  # fmt: skip

    def _cancel_and_wait(self, job_id: str) -> dict[str, Any]:
        """Ask the server to cancel, then wait (bounded) until its job has really stopped.

        A running job stops at its next frame, so "cancelled" is only reported once the server says so;
        otherwise a new capture could queue behind a job the user believes is gone.
        """
        self._set(CaptureSnapshot(phase="cancelling", message="Cancelling: waiting for the server to stop the job",
                                  job_id=job_id))  # fmt: skip
        status = self.client.cancel(job_id)
        deadline = time.monotonic() + self.stop_wait_s
        while status["state"] not in TERMINAL and time.monotonic() < deadline:
            time.sleep(self.poll_s)
            status = self.client.status(job_id)
        return status

    def _finish(self, status: dict[str, Any], job_id: str) -> None:
        state = status["state"]
        if state == "cancelled":
            self._set(CaptureSnapshot(phase="cancelled", message="Capture cancelled; the server stopped the job",
                                      job_id=job_id))  # fmt: skip
        elif self._cancel.is_set() and state != "done":
            self._set(CaptureSnapshot(phase="cancelled", job_id=job_id, message=(
                f"Cancel requested; the server job is still {state} after {self.stop_wait_s:.0f} s "
                "and will stop at its next frame")))  # fmt: skip
        elif state == "failed":
            error = status.get("error") or {}
            where = f" (stage {error['stage']})" if error.get("stage") else ""
            self._set(CaptureSnapshot(phase="failed", message=f"The capture failed{where}: {error.get('message', '?')}",
                                      job_id=job_id))  # fmt: skip
        else:
            self._set(CaptureSnapshot(phase="downloading", message="Downloading the result", job_id=job_id))
            path = self.client.download_result(job_id, self.destination)
            people = (status.get("summary") or {}).get("people")
            done = CaptureSnapshot(phase="done", fraction=1.0, message=f"Captured {people} people", job_id=job_id)
            self._set(replace(done, result_path=path))
