"""The capture pipeline: footage -> 2D poses -> tracks -> 3D -> motion clean-up -> result file.

One function, ``run_capture``, used by the CLI, the server's worker and the tests. The names below are
imported on first use (PEP 562): ``run`` pulls in torch, av and cv2, and the CLI needs only ``options``
and ``progress`` to build its parser.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .options import CaptureOptions, OptionsError
    from .progress import CancelToken, PipelineCancelled, PipelineError, ProgressEvent
    from .run import CaptureSummary, run_capture

_SOURCES = {
    "CancelToken": ".progress",
    "CaptureOptions": ".options",
    "CaptureSummary": ".run",
    "OptionsError": ".options",
    "PipelineCancelled": ".progress",
    "PipelineError": ".progress",
    "ProgressEvent": ".progress",
    "run_capture": ".run",
}

__all__ = [
    "CancelToken",
    "CaptureOptions",
    "CaptureSummary",
    "OptionsError",
    "PipelineCancelled",
    "PipelineError",
    "ProgressEvent",
    "run_capture",
]


def __getattr__(name: str) -> Any:
    """Import a re-exported name from its submodule the first time it is asked for, then keep it."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(source, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
