"""The capture pipeline: footage -> 2D poses -> tracks -> 3D -> motion clean-up -> result file.

One function, ``run_capture``, used by the CLI, the server's worker and the tests.
"""

from .options import CaptureOptions, OptionsError
from .progress import CancelToken, PipelineCancelled, PipelineError, ProgressEvent
from .run import CaptureSummary, run_capture

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
