"""End-to-end seconds per frame against the number of people, embedded defaults (BlazePose + lift), this machine.

The street clip is tiled 1x1, 1x2 and 2x2 (the same real footage side by side), so each step holds about
twice the people of the last at the same person size; every tiling runs through ``run_capture``.

.venv/bin/python bench/end_to_end.py [--frames 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"
TILINGS = ((1, 1), (1, 2), (2, 2))


def tiled_clip(rows: int, cols: int, frames: int, out: Path) -> Path:
    import av
    import numpy as np

    from inference_server.footage import open_footage

    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt, stream.bit_rate = 768 * cols, 576 * rows, "yuv420p", 8_000_000
        for frame in open_footage(STREET).frames(stop=frames):
            image = np.tile(frame.image, (rows, cols, 1))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return out


def main() -> None:
    from inference_server.pipeline import CaptureOptions, run_capture

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for tiles in TILINGS:
            clip = tiled_clip(*tiles, args.frames, work / f"street_{tiles[0]}x{tiles[1]}.mp4")
            stages: dict[str, float] = {}
            last = [time.perf_counter(), None]

            def progress(event, stages=stages, last=last) -> None:
                now = time.perf_counter()
                if last[1] is not None:
                    stages[last[1]] = stages.get(last[1], 0.0) + now - last[0]
                last[0], last[1] = now, event.stage

            start = time.perf_counter()
            summary = run_capture(clip, work / "r.npz", CaptureOptions(min_track_length=5), progress=progress)
            seconds = time.perf_counter() - start
            rows.append((tiles, summary.people, seconds / summary.frames, stages))
    base = rows[0][2]
    print(f"end to end, embedded defaults, {args.frames} frames per tiling of {STREET.name}")
    print(f"{'tiling':>7} {'people':>7} {'s/frame':>8} {'x 1x1':>6}   time by stage (s)")
    for (r, c), people, per_frame, stages in rows:
        detail = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
        print(f"{r}x{c:<5} {people:>7} {per_frame:>8.2f} {per_frame / base:>6.2f}   {detail}")


if __name__ == "__main__":
    main()
