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

# Shares of the whole capture, for one overall progress figure. The server's stages are weighted by
# their measured times on the street clip with the embedded defaults on a CPU (docs/benchmarks.md: the
# 2D poses about three quarters, the lift most of the rest); elsewhere the bar moves at uneven speed
# but never backwards. The upload and the download are small next to them on a local server.
UPLOAD_SHARE, DOWNLOAD_SHARE = 0.05, 0.03
STAGE_WEIGHTS = {"open": 0.01, "poses": 0.70, "estimate": 0.18, "motion": 0.08, "write": 0.03, "preview": 0.12}


def overall_fraction(phase: str, stage: str = "", fraction: float = 0.0, *, preview: bool = False) -> float:
    """0..1 across upload, the server's stages (in pipeline order) and download."""
    if phase in ("uploading", "cancelled", "failed"):
        return UPLOAD_SHARE * fraction if phase == "uploading" else 0.0
    if phase == "queued":
        return UPLOAD_SHARE
    if phase in ("downloading", "done"):
        return 1.0 - DOWNLOAD_SHARE if phase == "downloading" else 1.0
    stages = [name for name in STAGE_WEIGHTS if preview or name != "preview"]
    total = sum(STAGE_WEIGHTS[name] for name in stages)
    index = stages.index(stage) if stage in stages else 0
    before = sum(STAGE_WEIGHTS[name] for name in stages[:index])
    current = STAGE_WEIGHTS[stages[index]] * min(max(fraction, 0.0), 1.0) if stage in stages else 0.0
    server_share = 1.0 - UPLOAD_SHARE - DOWNLOAD_SHARE
    return UPLOAD_SHARE + server_share * (before + current) / total


@dataclass(kw_only=True, frozen=True)
class CaptureSnapshot:
    phase: str  # uploading | queued | running | cancelling | downloading | done | failed | cancelled
    stage: str = ""  # the server's pipeline stage while running
    fraction: float = 0.0  # of the current phase/stage, 0..1
    overall: float = 0.0  # of the whole capture, 0..1 (overall_fraction)
    eta_s: float | None = None
    message: str = ""  # plain-words status or error
    result_path: Path | None = None
    preview_path: Path | None = None  # the overlay video, when asked for and the server made it
    job_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.phase in TERMINAL

    def label(self) -> str:
        """One line for the panel's progress bar."""
        if self.phase == "running" and self.stage:
            eta = f", about {self.eta_s:.0f} s left in this stage" if self.eta_s is not None else ""
            return f"{self.stage.capitalize()} {self.fraction:.0%} ({self.overall:.0%} overall){eta}"
        return self.message or self.phase.capitalize()


def stage_snapshot(status: dict[str, Any], job_id: str, *, preview: bool = False) -> CaptureSnapshot:
    """The panel's view of a server JobStatus while it is queued or running."""
    if status["state"] == "queued":
        ahead = status.get("queue_position") or 0
        return CaptureSnapshot(phase="queued", message=f"Queued ({ahead} job(s) ahead)", job_id=job_id,
                               overall=overall_fraction("queued"))  # fmt: skip
    stage = status.get("stage") or ""
    current = next((p for p in status.get("progress", []) if p["stage"] == stage), None)
    fraction = min(current["done"] / current["total"] if current and current["total"] else 0.0, 1.0)
    overall = overall_fraction("running", stage, fraction, preview=preview)
    eta = current and current.get("eta_s")
    return CaptureSnapshot(phase="running", stage=stage, fraction=fraction, eta_s=eta, job_id=job_id, overall=overall)


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
                fraction = sent / size if size else 1.0
                self._set(CaptureSnapshot(phase="uploading", stage="upload", fraction=fraction,
                                          overall=overall_fraction("uploading", fraction=fraction),
                                          message=f"Uploading footage {fraction:.0%}"))  # fmt: skip

            upload = self.client.upload(self.footage, progress=uploaded, cancelled=self._cancel.is_set)
            status = self.client.submit(upload["upload_id"], self.options)
            job_id = status["id"]
            while status["state"] not in TERMINAL:
                if self._cancel.is_set():
                    status = self._cancel_and_wait(job_id)
                    break
                self._set(stage_snapshot(status, job_id, preview=bool(self.options.get("preview"))))
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
                                  job_id=job_id, overall=self.snapshot().overall))  # fmt: skip
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
            self._set(CaptureSnapshot(phase="downloading", message="Downloading the result", job_id=job_id,
                                      overall=overall_fraction("downloading")))  # fmt: skip
            path = self.client.download_result(job_id, self.destination)
            summary = status.get("summary") or {}
            preview = None
            if summary.get("preview"):
                preview = self.client.download_preview(job_id, self.destination.with_name(
                    f"{self.destination.stem}_preview.mp4"))  # fmt: skip
            done = CaptureSnapshot(phase="done", fraction=1.0, overall=1.0, job_id=job_id,
                                   message=f"Captured {summary.get('people')} people")  # fmt: skip
            self._set(replace(done, result_path=path, preview_path=preview))
