"""The two kinds of Ray task a clip's capture is made of, as the workers run them.

``estimate_part``: the streaming pass and the 3D estimates of the clip (or of one segment of it), the
work that wants a GPU when 3DCrowdNet runs. ``finish_clip``: the parts stitched, the clean-up over the
whole clip and the result file, which need no GPU; split so that a GPU is not held through the clean-up.

The result comes back to the driver as bytes and the driver writes every file, so an interrupted batch
leaves none half-written and the workers of a cluster need no write access to the output folder (they do
need to read the clip at the same path). A capture that fails (bad footage, bad options) returns its
reason: it fails alone and is not retried; a worker that dies (a native crash, a lost node) is retried.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def quality_shares(result_path: Path) -> dict[str, float]:
    """Share of the capture's person-frames observed, filled in and repaired (docs/result-format.md)."""
    from crowdmocap_addon.core.result.reader import read_result
    from crowdmocap_addon.core.result.schema import QUALITY_NAMES

    codes = [person.frame_quality for person in read_result(result_path).people]
    if not codes:
        return {}
    counts = np.bincount(np.concatenate(codes), minlength=len(QUALITY_NAMES)).astype(np.float64)
    return {name: round(float(count / counts.sum()), 4) for name, count in zip(QUALITY_NAMES, counts, strict=True)}


def assigned_resources() -> dict[str, float]:
    """What Ray gave the running task (CPU, GPU), as the manifest records it; empty outside a Ray task."""
    import ray

    if not ray.is_initialized():
        return {}
    given = ray.get_runtime_context().get_assigned_resources()
    return {name: round(float(amount), 4) for name, amount in sorted(given.items())}


def estimate_part(clip: str, options: dict[str, Any], pose_backend_factory: Callable[..., Any] | None = None, *,
                  whole: bool) -> dict[str, Any]:  # fmt: skip
    """The people of ``clip`` between ``options``' start and stop, not yet cleaned up, or the error that
    stopped it (``moving``: a cut segment's camera moves, so the clip is to be captured whole)."""
    from ..pipeline import CaptureOptions, OptionsError, PipelineError
    from ..pipeline.segments import MOVING_CAMERA, estimate_segment

    started = time.monotonic()
    extra = {} if pose_backend_factory is None else {"pose_backend_factory": pose_backend_factory}
    try:
        estimated = estimate_segment(clip, CaptureOptions.from_dict(options), whole=whole, **extra)
    except (OptionsError, PipelineError) as exc:
        return {"error": str(exc), "moving": MOVING_CAMERA in str(exc)}
    return {"estimated": estimated, "seconds": time.monotonic() - started, "resources": assigned_resources()}


def finish_clip(clip: str, options: dict[str, Any], ranges: list[tuple[int, int]], fit_device: str | None,
                *parts: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The clip's result file (as bytes) and summary from its parts (each ``estimate_part``'s outcome),
    or the error that stopped it."""
    from ..pipeline import CaptureOptions, OptionsError, PipelineError
    from ..pipeline.segments import finish_segments

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crowdmocap-batch-") as folder:
        out = Path(folder) / "result.npz"
        try:
            summary = finish_segments(clip, out, CaptureOptions.from_dict(options), [p["estimated"] for p in parts],
                                      ranges, fit_device=fit_device)  # fmt: skip
        except (OptionsError, PipelineError) as exc:
            return {"error": str(exc)}
        work = sum(p["seconds"] for p in parts) + time.monotonic() - started
        return {"data": out.read_bytes(), "people": summary.people, "frames": summary.frames,
                "seconds": round(work, 3), "warnings": list(summary.warnings), "quality": quality_shares(out),
                "worker": f"{socket.gethostname()}:{os.getpid()}", "segments": len(ranges),
                "resources": {"estimate": parts[0]["resources"], "finish": assigned_resources()}}  # fmt: skip
