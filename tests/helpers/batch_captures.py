"""Captures for batch tests, picklable so Ray workers can run them: one that kills its worker the first
time (a native crash, a lost node) and one that is slow enough to be interrupted."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from tests.helpers.recorded_poses import STREET_POSES
from tests.helpers.replay_cli import replaying_capture


class KilledOnce:
    """Kills the worker process on its first call (leaving ``marker`` behind), then replays the street poses."""

    def __init__(self, marker: Path, recording: Path = STREET_POSES) -> None:
        self.marker, self.recording = marker, recording

    def __call__(self, clip: Any, out: Any, options: Any, **kwargs: Any) -> Any:
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return replaying_capture(self.recording)(clip, out, options, **kwargs)


class Slow:
    """Waits ``seconds`` before replaying the street poses: long enough to press Ctrl-C during."""

    def __init__(self, seconds: float, recording: Path = STREET_POSES) -> None:
        self.seconds, self.recording = seconds, recording

    def __call__(self, clip: Any, out: Any, options: Any, **kwargs: Any) -> Any:
        time.sleep(self.seconds)
        return replaying_capture(self.recording)(clip, out, options, **kwargs)
