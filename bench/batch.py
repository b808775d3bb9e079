"""Batch capture: N clips one after another in this process vs the same clips as a batch on a local Ray.

Both run the real pipeline on the embedded defaults (NanoDet-g + BlazePose 2D poses, the lift) over the
first frames of copies of the shared street clip, in the same run; the batch's time includes starting
and stopping Ray.

.venv/bin/python bench/batch.py [--clips 4] [--frames 30] [--cpus 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inference_server.batch.inputs import find_clips  # noqa: E402
from inference_server.batch.runner import run_batch  # noqa: E402
from inference_server.pipeline import CaptureOptions, run_capture  # noqa: E402

CLIP = REPO / "tests" / "data" / "vtest_first10s.avi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (this machine has 2)")
    args = parser.parse_args()
    options = CaptureOptions(stop=args.frames, min_track_length=5)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for index in range(args.clips):
            shutil.copy(CLIP, folder / f"clip{index}.avi")
        clips = find_clips([str(folder)])
        start = time.perf_counter()
        for clip in clips:
            run_capture(clip.path, folder / "sequential" / clip.result_name, options)
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        records = run_batch(clips, folder / "batch", options, num_cpus=args.cpus)
        batched = time.perf_counter() - start
    assert all(r.status == "done" for r in records), [r.error for r in records if r.error]
    frames = args.clips * args.frames
    print(f"{args.clips} clips x {args.frames} frames of {CLIP.name}, embedded defaults, {args.cpus} Ray CPUs")
    print(f"  one after another  {sequential:7.1f} s  ({frames / sequential:5.2f} frames/s)")
    print(f"  batch on Ray       {batched:7.1f} s  ({frames / batched:5.2f} frames/s)  "
          f"speed-up {sequential / batched:.2f}x (Ray start-up included)")  # fmt: skip


if __name__ == "__main__":
    main()
