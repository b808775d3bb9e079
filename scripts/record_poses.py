"""Record the embedded default 2D stage's poses on a clip, for tests to replay instead of running the models.

    .venv/bin/python scripts/record_poses.py [CLIP] [-o OUT.npz]

Defaults: the street clip ``tests/data/vtest_first10s.avi`` into ``tests/data/vtest_first10s_blazepose.npz``
(the recording the test suite replays; see ``tests/helpers/recorded_poses.py`` for the layout). The 2D
stage runs as a capture runs it (``record_default_stage``): the default backend (NanoDet-g proposals, the
BlazePose landmark network, the second look) with the tracker's expected regions, so the recording is what
a capture of the clip sees. Run it again whenever that output changes on purpose; a slow test says when.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


def record(clip: Path, out: Path) -> Path:
    """Run the default 2D stage over every frame of ``clip`` and write what it found to ``out``."""
    from inference_server.footage import open_footage
    from tests.helpers.recorded_poses import frame_signature, record_default_stage, write_recording

    frames = record_default_stage(clip)
    signatures = [frame_signature(frame.image) for frame in open_footage(clip).frames()]
    info = open_footage(clip).info
    source = f"{clip.name} sha256 {hashlib.sha256(clip.read_bytes()).hexdigest()}"
    return write_recording(out, frames, signatures, size=(info.width, info.height), backend="blazepose-topdown",
                           source=source)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, default=STREET, help="footage (default: the street clip)")
    parser.add_argument("-o", "--output", type=Path, help="recording to write (default: next to the clip)")
    args = parser.parse_args(argv)
    out = args.output or args.clip.with_name(f"{args.clip.stem}_blazepose.npz")
    written = record(args.clip, out)
    print(f"wrote {written} ({written.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
