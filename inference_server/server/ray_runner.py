"""The server's captures on Ray (``serve --ray-address``): each job a Ray task, so the Blender panel's
captures run on the cluster.

``RayRunner`` has ``run_capture``'s signature, like ``IsolatedRunner``: progress comes back through a Ray
queue, a cancel cancels the task, the result (and preview) come back as bytes and are written here, and a
worker that dies fails the job with ``capture_crashed`` while the server carries on. The footage is read
by the worker at the path the server has it: on a cluster the server's data folder must be on storage
every node sees (on one machine, ``local``, it is).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..pipeline.progress import CancelToken, PipelineCancelled, ProgressCallback, ProgressEvent
from .atomic import atomic_write_bytes
from .failures import CaptureFailed, failure_of
from .job_record import JobFailure

log = logging.getLogger(__name__)
POLL_S = 0.2
LOCAL = "local"  # --ray-address local: Ray started inside the server, on this machine


def _remote_capture(runner: Any, footage: str, options: Any, queue: Any, *, with_preview: bool,
                    footage_name: str | None) -> dict[str, Any]:  # fmt: skip
    """In the worker: the capture into a scratch folder; the outcome, files as bytes, as a message."""
    with tempfile.TemporaryDirectory(prefix="crowdmocap-job-") as name:
        folder = Path(name)
        try:
            summary = runner(footage, folder / "result.npz", options,
                             preview=folder / "preview.mp4" if with_preview else None, footage_name=footage_name,
                             progress=lambda event: queue.put(event.as_dict()))  # fmt: skip
        except PipelineCancelled:
            return {"kind": "cancelled"}
        except BaseException as exc:  # every outcome is a message; the server decides what it means
            return {"kind": "failed", "failure": failure_of(exc)}
        preview = summary.preview_path
        return {"kind": "done", "summary": summary, "result": Path(summary.result_path).read_bytes(),
                "preview": None if preview is None else Path(preview).read_bytes()}  # fmt: skip


class RayRunner:
    """``run_capture`` as a Ray task on the cluster at ``address`` (``local``: Ray started in this process)."""

    def __init__(self, runner: Any, address: str, *, cpus: float = 1.0, gpus: float | None = None) -> None:
        self.runner, self.address, self.cpus, self.gpus = runner, address, cpus, gpus
        self._task: Any = None

    def _remote(self) -> Any:
        import ray

        if not ray.is_initialized():
            if self.address == LOCAL:  # the workers are the server's own: their output belongs in its log
                ray.init(include_dashboard=False, log_to_driver=True, configure_logging=False)
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        if self._task is None:
            gpus = self.gpus if self.gpus is not None else (1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0)
            self._task = ray.remote(_remote_capture).options(num_cpus=self.cpus, num_gpus=gpus, max_retries=0)
        return self._task

    def __call__(self, footage: str | Path, output: str | Path, options: Any, *, preview: str | Path | None = None,
                 progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                 footage_name: str | None = None) -> Any:  # fmt: skip
        import ray
        from ray.util.queue import Queue

        cancel = cancel or CancelToken()
        queue = Queue()
        ref = self._remote().remote(self.runner, str(footage), options, queue, with_preview=preview is not None,
                                    footage_name=footage_name)  # fmt: skip
        last: ProgressEvent | None = None
        while not ray.wait([ref], timeout=POLL_S)[0]:
            last = self._relay(queue, progress) or last
            if cancel.cancelled:
                ray.cancel(ref, force=True)
                raise PipelineCancelled("cancelled (the Ray task was stopped)")
        last = self._relay(queue, progress) or last
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayError as exc:
            stage = None if last is None else last.stage
            lost = f"the Ray worker running the capture was lost ({type(exc).__name__}); the server is still running"
            raise CaptureFailed(JobFailure(code="capture_crashed", stage=stage, message=lost)) from exc
        finally:
            queue.shutdown()
        if outcome["kind"] == "cancelled":
            raise PipelineCancelled("cancelled")
        if outcome["kind"] == "failed":
            raise CaptureFailed(outcome["failure"])
        result_path, preview_path = Path(output), None if preview is None else Path(preview)
        atomic_write_bytes(result_path, outcome["result"])
        if outcome["preview"] is not None and preview_path is not None:
            atomic_write_bytes(preview_path, outcome["preview"])
        else:
            preview_path = None
        return replace(outcome["summary"], result_path=result_path, preview_path=preview_path)

    @staticmethod
    def _relay(queue: Any, progress: ProgressCallback | None) -> ProgressEvent | None:
        last = None
        while not queue.empty():
            last = ProgressEvent(**queue.get_nowait())
            if progress is not None:
                progress(last)
        return last
