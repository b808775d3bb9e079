"""2D stages for batch tests, picklable so Ray workers can open them: one that kills its worker the first
time (a native crash, a lost node) and one slow enough to be interrupted. Both then replay the street."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from tests.helpers.recorded_poses import STREET_POSES, AnnouncedReplay


class KilledOnce:
    """Kills the worker process the first time it is opened (leaving ``marker`` behind), then replays."""

    def __init__(self, marker: Path, recording: Path = STREET_POSES) -> None:
        self.marker, self.recording = marker, recording

    def __call__(self, plan: Any) -> Any:
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return AnnouncedReplay(self.recording)(plan)


class Slow:
    """Waits ``seconds`` before opening the replay: long enough to press Ctrl-C during a capture."""

    def __init__(self, seconds: float, recording: Path = STREET_POSES) -> None:
        self.seconds, self.recording = seconds, recording

    def __call__(self, plan: Any) -> Any:
        time.sleep(self.seconds)
        return AnnouncedReplay(self.recording)(plan)
