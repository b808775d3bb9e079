"""Batch capture: N clips one after another in this process vs the same clips as a batch on a local Ray,
and one long clip on Ray in one piece vs in overlapping segments.

All run the real pipeline on the embedded defaults (NanoDet-g + BlazePose 2D poses, the lift) over the
first frames of copies of the shared street clip, in the same run; the batch times include starting and
stopping Ray.

.venv/bin/python bench/batch.py [--clips 4] [--frames 30] [--cpus 2] [--long 100 --segment 30 --overlap 10]
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
from inference_server.batch.runner import Segments, run_batch  # noqa: E402
from inference_server.pipeline import CaptureOptions, run_capture  # noqa: E402

CLIP = REPO / "tests" / "data" / "vtest_first10s.avi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (this machine has 2)")
    parser.add_argument("--long", type=int, default=100, help="frames of the long clip (0: skip that part)")
    parser.add_argument("--segment", type=int, default=30, help="processed frames per segment")
    parser.add_argument("--overlap", type=int, default=10, help="frames neighbouring segments share")
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
    if args.long:
        _long_clip(args)


def _long_clip(args: argparse.Namespace) -> None:
    """One clip on Ray captured whole, then in segments (one Ray start each, so both pay it)."""
    options = CaptureOptions(stop=args.long, min_track_length=5)
    timings = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        shutil.copy(CLIP, folder / "long.avi")
        clips = find_clips([str(folder / "long.avi")])
        cut = Segments(frames=args.segment, overlap=args.overlap)
        for label, segments in (("in one piece", Segments()), ("in segments", cut)):
            start = time.perf_counter()
            (record,) = run_batch(clips, folder / label.replace(" ", "_"), options, num_cpus=args.cpus,
                                  segments=segments)  # fmt: skip
            timings[label] = (time.perf_counter() - start, record)
    whole, pieces = timings["in one piece"], timings["in segments"]
    print(
        f"one clip of {args.long} frames on Ray ({args.cpus} CPUs), segments of {args.segment} sharing {args.overlap}"
    )
    for label, (seconds, record) in timings.items():
        print(f"  {label:<14} {seconds:7.1f} s  ({args.long / seconds:5.2f} frames/s)  {record.segments} piece(s), "
              f"{record.people} people")  # fmt: skip
    print(f"  segment speed-up {whole[0] / pieces[0]:.2f}x")


if __name__ == "__main__":
    main()
