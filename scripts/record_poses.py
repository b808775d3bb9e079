"""Record the real BlazePose backend's 2D poses on a clip, for tests to replay instead of running the model.

    .venv/bin/python scripts/record_poses.py [CLIP] [-o OUT.npz]

Defaults: the street clip ``tests/data/vtest_first10s.avi`` into ``tests/data/vtest_first10s_blazepose.npz``
(the recording the test suite replays; see ``tests/helpers/recorded_poses.py`` for the layout). Run it
again whenever the BlazePose backend's output changes on purpose; a slow test says when it has.
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
    """Run BlazePose top-down over every frame of ``clip`` and write what it found to ``out``."""
    from inference_server.footage import open_footage
    from inference_server.poses2d.blazepose import BlazePoseSettings, BlazePoseTopDown
    from tests.helpers.recorded_poses import RECORDED_BACKEND, frame_signature, write_recording

    footage = open_footage(clip)
    frames, signatures = [], []
    with BlazePoseTopDown(BlazePoseSettings(**RECORDED_BACKEND)) as backend:
        for frame in footage.frames():
            frames.append(backend(frame.image, frame.index, frame.time))
            signatures.append(frame_signature(frame.image))
            print(f"\rframe {frame.index + 1}/{footage.info.frame_count}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    source = f"{clip.name} sha256 {hashlib.sha256(clip.read_bytes()).hexdigest()}"
    return write_recording(out, frames, signatures, size=(footage.info.width, footage.info.height),
                           backend=BlazePoseTopDown.name, source=source)  # fmt: skip


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
