"""``crowdmocap-server`` with the 2D stage replaying a recording: the seam for subprocess tests.

    python -m tests.helpers.replay_cli RECORDING.npz COMMAND [ARGS...]     (from the repository root)

Runs ``inference_server.cli.main`` on the remaining arguments with ``run_capture`` bound to the
recording's ``pose_backend_factory`` (the CLI's ``capture`` seam), so ``process`` and the ``serve`` worker
run every other stage for real on the recorded BlazePose poses. Tests build the command with
``server_command``, the one place that chooses replay.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.helpers.recorded_poses import STREET_POSES, RecordedPoses, Recording, load_recording

if TYPE_CHECKING:  # the pipeline (torch, av) loads only once a command needs it
    from inference_server.pipeline.backends import PoseBackendFactory
    from inference_server.pipeline.model_plan import ModelPlan

REPO = Path(__file__).resolve().parents[2]
REPLAY_NOTICE = "replay_cli: 2D poses replayed from"


def server_command(*args: str, python: str = sys.executable, recording: Path = STREET_POSES) -> list[str]:
    """The argv of ``crowdmocap-server ARGS`` replaying ``recording``; run it with ``cwd=REPO``."""
    return [python, "-m", "tests.helpers.replay_cli", str(recording), *args]


def replaying_capture(recording: Path) -> Callable[..., Any]:
    """``run_capture`` with its 2D stage serving the recorded poses."""
    from inference_server.pipeline.run import run_capture

    return functools.partial(run_capture, pose_backend_factory=_announced(load_recording(recording)))


def _announced(recording: Recording) -> PoseBackendFactory:
    """The recording's factory, saying on stderr each time it is used: tests check that replay did happen."""

    def open_recorded(plan: ModelPlan) -> RecordedPoses:
        print(f"{REPLAY_NOTICE} {recording.source}", file=sys.stderr, flush=True)
        return recording.factory(plan)

    return open_recorded


def main(argv: Sequence[str]) -> int:
    if not argv:
        print("usage: python -m tests.helpers.replay_cli RECORDING.npz COMMAND [ARGS...]", file=sys.stderr)
        return 2
    from inference_server.cli import build_parser
    from inference_server.cli import main as cli_main

    build_parser().parse_args(argv[1:])  # usage errors exit here, as fast as the real CLI (no pipeline import)
    return cli_main(list(argv[1:]), capture=replaying_capture(Path(argv[0])))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
