"""Camera-motion stage: cost per frame of the background homography, and of the whole streamed stage.

Decoding the same frames is the baseline, in the same run: the stage's cost is shown as a ratio to it.

.venv/bin/python bench/camera_motion.py [--frames 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import islice, pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import av  # noqa: E402

from inference_server.camera_motion.features import frame_step  # noqa: E402
from inference_server.camera_motion.path import chain  # noqa: E402
from inference_server.camera_motion.tracker import CameraTracker  # noqa: E402

CLIP = REPO / "tests" / "data" / "vtest_25s_to_50s.avi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    start = time.perf_counter()
    with av.open(str(CLIP)) as video:
        frames = [f.to_ndarray(format="rgb24") for f in islice(video.decode(video=0), args.frames)]
    decode_ms = (time.perf_counter() - start) * 1000 / len(frames)
    start = time.perf_counter()
    steps = [frame_step(a, b) for a, b in pairwise(frames)]
    step_ms = (time.perf_counter() - start) * 1000 / len(steps)
    start = time.perf_counter()
    height, width = frames[0].shape[:2]
    chain(steps, 960.0, (width / 2, height / 2))
    chain_ms = (time.perf_counter() - start) * 1000 / len(steps)
    start = time.perf_counter()
    tracker = CameraTracker(960.0)
    for index, frame in enumerate(frames):
        tracker.update(frame, [], index)
    tracker.finish()
    tracker_ms = (time.perf_counter() - start) * 1000 / len(frames)
    print(f"{CLIP.name}: {len(frames)} frames {width}x{height}")
    print(f"  decode (baseline)      {decode_ms:6.2f} ms/frame")
    print(f"  background homography  {step_ms:6.2f} ms/frame  ({step_ms / decode_ms:.1f}x decode)")
    print(f"  chain + bridge         {chain_ms:6.3f} ms/frame")
    print(
        f"  the pipeline's stage   {tracker_ms:6.2f} ms/frame  ({tracker_ms / decode_ms:.1f}x decode; CameraTracker: "
        f"the step, the floor step every 4 frames and its parallax test)"
    )
    print(f"  reliable steps         {sum(s.reliable for s in steps)}/{len(steps)}, "
          f"median inliers {sorted(s.inliers for s in steps)[len(steps) // 2]}")  # fmt: skip


if __name__ == "__main__":
    main()
