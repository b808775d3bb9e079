"""``crowdmocap-server`` with the 2D stage replaying a recording: the seam for subprocess tests.

    python -m tests.helpers.replay_cli [--abort-at-frame N | --slow S] RECORDING.npz COMMAND [ARGS...]

From the repository root: runs ``inference_server.cli.main`` on the remaining arguments with the
recording as the 2D stage (the CLI's ``pose_backend_factory`` seam), so ``process``, ``batch`` and the
``serve`` worker's capture processes run every other stage for real on the recorded BlazePose poses.
``--abort-at-frame`` makes the 2D stage abort the process at that frame (a native crash); ``--slow``
makes each capture's 2D stage wait S seconds before it opens (time to press Ctrl-C). Tests build the
command with ``server_command``, the one place that chooses replay.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.helpers.recorded_poses import REPLAY_NOTICE, STREET_POSES, AnnouncedReplay

REPO = Path(__file__).resolve().parents[2]
__all__ = ["REPLAY_NOTICE", "REPO", "replaying_capture", "server_command"]
USAGE = "usage: python -m tests.helpers.replay_cli [--abort-at-frame N | --slow S] RECORDING.npz COMMAND [ARGS...]"


def server_command(*args: str, python: str = sys.executable, recording: Path = STREET_POSES,
                   abort_at_frame: int | None = None, slow: float | None = None) -> list[str]:  # fmt: skip
    """The argv of ``crowdmocap-server ARGS`` replaying ``recording``; run it with ``cwd=REPO``."""
    crash = [] if abort_at_frame is None else ["--abort-at-frame", str(abort_at_frame)]
    wait = [] if slow is None else ["--slow", str(slow)]
    return [python, "-m", "tests.helpers.replay_cli", *crash, *wait, str(recording), *args]


def replaying_capture(recording: Path, abort_at_frame: int | None = None) -> Callable[..., Any]:
    """``run_capture`` with its 2D stage serving the recorded poses (picklable: a capture process runs it)."""
    from inference_server.pipeline.run import run_capture

    return functools.partial(run_capture, pose_backend_factory=AnnouncedReplay(recording, abort_at_frame))


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    abort_at, slow = None, None
    if argv[:1] == ["--abort-at-frame"] and len(argv) > 1:
        abort_at, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--slow"] and len(argv) > 1:
        slow, argv = float(argv[1]), argv[2:]
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    from inference_server.cli import build_parser
    from inference_server.cli import main as cli_main

    build_parser().parse_args(argv[1:])  # usage errors exit here, as fast as the real CLI (no pipeline import)
    if slow is not None:
        from tests.helpers.batch_captures import Slow

        return cli_main(argv[1:], pose_backend_factory=Slow(slow, Path(argv[0])))
    return cli_main(argv[1:], pose_backend_factory=AnnouncedReplay(Path(argv[0]), abort_at))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
