"""Peak memory of the whole pipeline against clip length: it must stay flat (streaming, per-frame parameters only).

Clips of 1x and 10x the shared street clip's length are made by looping it (real video, re-encoded),
each captured in a fresh process with the 2D stage replaying BlazePose's recorded answers (computed
once here, so the measurement is about the pipeline, not the pose model). Prints peak RSS, its growth
over the process's footprint before the capture, and the ratio between the clip lengths.

.venv/bin/python bench/pipeline_memory.py [--loops 1 10]
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


def loop_clip(loops: int, out: Path) -> Path:
    """The street clip repeated ``loops`` times, as an MPEG-4 video of real frames."""
    import av

    from inference_server.footage import open_footage

    frames = [f.image for f in open_footage(STREET).frames()]
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
        for _ in range(loops):
            for image in frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return out


def child(clip: Path, poses_file: Path) -> None:
    """Run one capture with the replayed 2D stage and print its memory figures as JSON."""
    from inference_server.pipeline import CaptureOptions, run_capture
    from inference_server.pipeline import run as run_module

    poses = pickle.loads(poses_file.read_bytes())

    class Replay:
        name = "blazepose-topdown"

        def __call__(self, image, index=0, time=0.0):
            recorded = poses[index % len(poses)]
            return type(recorded)(index, time, recorded.people)

        def close(self) -> None:
            pass

    run_module.open_pose_backend = lambda plan: Replay()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        summary = run_capture(clip, Path(out) / "r.npz", CaptureOptions(min_track_length=5))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"frames": summary.frames, "people": summary.people, "before_mb": before, "peak_mb": peak,
                      "seconds": time.perf_counter() - start}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from inference_server.footage import open_footage
    from inference_server.poses2d.blazepose import BlazePoseTopDown

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        print(f"recording BlazePose on {STREET.name} once ...", flush=True)
        with BlazePoseTopDown() as backend:
            poses = [backend(f.image, f.index, f.time) for f in open_footage(STREET).frames()]
        (work / "poses.pkl").write_bytes(pickle.dumps(poses))
        rows = []
        for loops in args.loops:
            clip = loop_clip(loops, work / f"street_x{loops}.mp4")
            done = subprocess.run([sys.executable, __file__, "--child", str(clip), str(work / "poses.pkl")],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"\n{'frames':>7} {'people':>7} {'peak RSS MB':>12} {'growth MB':>10} {'s':>7}")
    for row in rows:
        growth = row["peak_mb"] - row["before_mb"]
        print(f"{row['frames']:>7} {row['people']:>7} {row['peak_mb']:>12.0f} {growth:>10.0f} {row['seconds']:>7.1f}")
    first, last = rows[0], rows[-1]
    ratio = last["peak_mb"] / first["peak_mb"]
    print(f"\n{last['frames'] / first['frames']:.0f}x the frames -> {ratio:.2f}x the peak RSS")


if __name__ == "__main__":
    main()
