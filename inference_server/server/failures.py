"""Why a job failed, as the client reads it: one mapping from what the capture raised to a ``JobFailure``.

Used where the capture runs (in the child process, or in the worker's thread for an in-process runner),
so the stable codes are decided once. ``CaptureFailed`` carries a failure decided elsewhere (the child,
or its supervisor when the child dies) to the worker.
"""

from __future__ import annotations

import errno

from ..footage.reader import FootageError
from ..pipeline.model_plan import MissingModelError
from ..pipeline.options import OptionsError
from ..pipeline.progress import PipelineError
from .job_record import JobFailure

NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class CaptureFailed(Exception):  # noqa: N818 - a job outcome, carried to the worker
    """The capture ended with ``failure``; raised by a runner that decided the failure itself."""

    def __init__(self, failure: JobFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` or anything that caused it is the file system running out of space."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in NO_SPACE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def disk_full_failure(exc: BaseException, stage: str | None = None) -> JobFailure:
    return JobFailure(code="disk_full", stage=stage,
                      message=f"the server's disk is full ({exc}); free space and submit the job again")  # fmt: skip


def failure_of(exc: BaseException) -> JobFailure:
    """The job's ``error`` for an exception a capture raised; unexpected ones say only where to look."""
    if isinstance(exc, CaptureFailed):
        return exc.failure
    if isinstance(exc, PipelineError):
        if is_disk_full(exc):
            return disk_full_failure(exc.cause, exc.stage)
        code = "footage_unreadable" if isinstance(exc.__cause__, FootageError) else "pipeline_failed"
        return JobFailure(code=code, message=exc.cause, stage=exc.stage, frame=exc.frame)
    if isinstance(exc, MissingModelError):
        return JobFailure(code="missing_model", message=str(exc), stage="open")
    if isinstance(exc, OptionsError):
        return JobFailure(code="invalid_options", message=str(exc))
    if is_disk_full(exc):
        return disk_full_failure(exc)
    return JobFailure(code="internal_error", message="unexpected error; the details are in the server log")


def is_expected(exc: BaseException) -> bool:
    """Failures the user can act on (logged as warnings); the rest are bugs, logged with their traceback."""
    return isinstance(exc, CaptureFailed | PipelineError | OptionsError | MissingModelError) or is_disk_full(exc)
