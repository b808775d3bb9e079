"""Progress, cancellation and failure of a running capture: what the CLI bar and the server's jobs show."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

# The stages in the order they run; every ProgressEvent names one.
STAGES = ("open", "poses", "estimate", "motion", "write", "preview")


@dataclass(kw_only=True, frozen=True)
class ProgressEvent:
    stage: str  # one of STAGES
    done: int  # units finished in this stage (frames, or people for the per-person stages)
    total: int  # units in this stage; 0 when unknown
    unit: str  # "frames" or "people"
    eta_s: float | None  # seconds left in this stage at the current rate; None before the rate is known
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[ProgressEvent], None]


class PipelineCancelled(Exception):  # noqa: N818 - an outcome the caller asked for, not an error
    """The capture was cancelled by its caller (CancelToken.cancel) and stopped cleanly."""


class PipelineError(Exception):
    """A stage failed; says which stage, which frame (when one is to blame) and the cause."""

    def __init__(self, stage: str, cause: str, frame: int | None = None) -> None:
        self.stage, self.cause, self.frame = stage, cause, frame
        where = f"stage '{stage}'" + (f", frame {frame}" if frame is not None else "")
        super().__init__(f"{where}: {cause}")

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "frame": self.frame, "cause": self.cause}


class CancelToken:
    """Thread-safe cancel flag; the pipeline checks it between frames, batches and people."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise PipelineCancelled("cancelled")


class StageMeter:
    """Counts one stage's units and reports them with an ETA, at most every ``interval`` seconds."""

    def __init__(
        self, stage: str, total: int, unit: str, report: ProgressCallback | None, interval: float = 0.2
    ) -> None:
        self.stage, self.total, self.unit, self._report, self._interval = stage, max(total, 0), unit, report, interval
        self.done = 0
        self._start = time.monotonic()
        self._last = -float("inf")
        self._emit(force=True)

    def eta(self) -> float | None:
        if self.done <= 0 or self.total <= 0:
            return None
        elapsed = time.monotonic() - self._start
        return max(0.0, elapsed / self.done * (self.total - self.done))

    def _emit(self, force: bool = False, message: str = "") -> None:
        now = time.monotonic()
        if self._report is None or (not force and now - self._last < self._interval):
            return
        self._last = now
        self._report(
            ProgressEvent(
                stage=self.stage, done=self.done, total=self.total, unit=self.unit, eta_s=self.eta(), message=message
            )
        )

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.total and self.done > self.total:  # container frame counts can be estimates
            self.total = self.done
        self._emit()

    def finish(self, message: str = "") -> None:
        self.total = max(self.total, self.done)
        self._emit(force=True, message=message)
