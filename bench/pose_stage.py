"""2D pose stage speed on the shared street clip: frames/s and ms per person for each available backend.

.venv/bin/python bench/pose_stage.py [--frames 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inference_server.footage import open_footage  # noqa: E402
from inference_server.poses2d.blazepose import BlazePoseTopDown  # noqa: E402

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    images = [f.image for f in open_footage(STREET).frames(stop=args.frames)]
    decode_start = time.perf_counter()
    decoded = sum(1 for _ in open_footage(STREET).frames(stop=args.frames))
    decode_seconds = time.perf_counter() - decode_start
    print(f"2D pose stage — {len(images)} frames of {STREET.name} (768x576)")
    print(f"{'decoding only (PyAV)':<34}{decoded / decode_seconds:8.1f} frames/s")
    with BlazePoseTopDown() as backend:
        backend(images[0])  # warm-up
        start = time.perf_counter()
        proposals = sum(len(backend.propose(image)[0]) for image in images)
        propose_seconds = time.perf_counter() - start
        start = time.perf_counter()
        people = sum(len(backend(image).people) for image in images)
        seconds = time.perf_counter() - start
    per_person = (seconds - propose_seconds) / max(proposals, 1) * 1000
    print(f"{'blazepose-topdown (HOG + BlazePose)':<34}{len(images) / seconds:8.2f} frames/s"
          f"   {people / len(images):.1f} people/frame")  # fmt: skip
    print(f"{'  of which HOG proposals':<34}{propose_seconds / len(images) * 1000:8.0f} ms/frame"
          f"   {proposals / len(images):.1f} boxes/frame")  # fmt: skip
    print(f"{'  BlazePose per proposed box':<34}{per_person:8.1f} ms")


if __name__ == "__main__":
    main()
