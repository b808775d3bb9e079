"""``crowdmocap-server`` with the 2D stage replaying a recording: the seam for subprocess tests.

    python -m tests.helpers.replay_cli RECORDING.npz COMMAND [ARGS...]     (from the repository root)

Runs ``inference_server.cli.main`` on the remaining arguments after binding ``run_capture``'s
``pose_backend_factory`` to the recording, so ``process`` and the ``serve`` worker run every other stage
for real on the recorded BlazePose poses. Tests build the command with ``server_command`` (the one
place that chooses replay); the binding happens here, in the child, before the CLI looks the pipeline up.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tests.helpers.recorded_poses import STREET_POSES, RecordedPoses, Recording, load_recording

if TYPE_CHECKING:  # the pipeline (torch, av) loads only once a command needs it
    from inference_server.pipeline.backends import PoseBackendFactory
    from inference_server.pipeline.models import ModelPlan

REPO = Path(__file__).resolve().parents[2]
REPLAY_NOTICE = "replay_cli: 2D poses replayed from"


def server_command(*args: str, python: str = sys.executable, recording: Path = STREET_POSES) -> list[str]:
    """The argv of ``crowdmocap-server ARGS`` replaying ``recording``; run it with ``cwd=REPO``."""
    return [python, "-m", "tests.helpers.replay_cli", str(recording), *args]


def bind_recording(recording: Path) -> None:
    """Make the pipeline's ``run_capture`` default to the recorded poses (callers may still pass a factory).

    Rebinds the package's re-export too where it is already loaded, so ``from inference_server.pipeline
    import run_capture`` gets the replaying one however the package imports its names.
    """
    from inference_server import pipeline
    from inference_server.pipeline import run

    replaying = functools.partial(run.run_capture, pose_backend_factory=_announced(load_recording(recording)))
    run.run_capture = replaying
    if "run_capture" in vars(pipeline):
        pipeline.run_capture = replaying


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
    bind_recording(Path(argv[0]))
    return cli_main(list(argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
