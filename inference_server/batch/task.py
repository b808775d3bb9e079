"""One clip's capture, as a Ray worker runs it: the result comes back as bytes for the driver to write.

The driver writes every file, so an interrupted batch leaves none half-written, and the workers of a
cluster need no write access to the output folder (they do need to read the clip at the same path).
A capture that fails (bad footage, bad options) returns its reason: it fails alone and is not retried;
a worker that dies (a native crash, a lost node) is retried by Ray.
"""

from __future__ import annotations

import os
import socket
import tempfile
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


def capture_clip(clip: str, options: dict[str, Any], capture: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Capture ``clip`` with ``options`` (CaptureOptions as a dict) in a scratch folder; returns the result
    file's bytes and the summary, or the error that stopped it."""
    from ..pipeline import CaptureOptions, OptionsError, PipelineError, run_capture

    run = capture or run_capture
    with tempfile.TemporaryDirectory(prefix="crowdmocap-batch-") as folder:
        out = Path(folder) / "result.npz"
        try:
            summary = run(clip, out, CaptureOptions.from_dict(options))
        except (OptionsError, PipelineError) as exc:
            return {"error": str(exc)}
        return {"data": out.read_bytes(), "people": summary.people, "frames": summary.frames,
                "seconds": round(summary.seconds, 3), "warnings": list(summary.warnings),
                "quality": quality_shares(out), "worker": f"{socket.gethostname()}:{os.getpid()}"}  # fmt: skip


def estimate_clip_segment(clip: str, options: dict[str, Any],
                          pose_backend_factory: Callable[..., Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """One segment of a long clip (``options`` carry its start and stop): its people, not yet cleaned up,
    or the error that stopped it (``moving``: the camera moves, so the clip is to be captured whole)."""
    from ..pipeline import CaptureOptions, OptionsError, PipelineError
    from ..pipeline.segments import MOVING_CAMERA, estimate_segment

    extra = {} if pose_backend_factory is None else {"pose_backend_factory": pose_backend_factory}
    try:
        return {"estimated": estimate_segment(clip, CaptureOptions.from_dict(options), **extra)}
    except (OptionsError, PipelineError) as exc:
        return {"error": str(exc), "moving": MOVING_CAMERA in str(exc)}


def finish_clip_segments(clip: str, options: dict[str, Any], ranges: list[tuple[int, int]],
                         *segments: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The clip's result from its segments' people (each ``estimate_clip_segment``'s outcome), as
    ``capture_clip`` returns it."""
    from ..pipeline import CaptureOptions, OptionsError, PipelineError
    from ..pipeline.segments import finish_segments

    with tempfile.TemporaryDirectory(prefix="crowdmocap-batch-") as folder:
        out = Path(folder) / "result.npz"
        try:
            summary = finish_segments(clip, out, CaptureOptions.from_dict(options), [s["estimated"] for s in segments],
                                      ranges)  # fmt: skip
        except (OptionsError, PipelineError) as exc:
            return {"error": str(exc)}
        return {"data": out.read_bytes(), "people": summary.people, "frames": summary.frames,
                "seconds": round(summary.seconds, 3), "warnings": list(summary.warnings),
                "quality": quality_shares(out), "worker": f"{socket.gethostname()}:{os.getpid()}",
                "segments": len(ranges)}  # fmt: skip
