"""3DCrowdNet throughput: crops/s by batch size, against a one-person-per-call loop like the release demo.

Both run in the same process on the same machine. Without the licensed files it uses a randomly
initialised network in the official layout and a synthetic SMPL model (the network's cost does not
depend on its weights; the synthetic SMPL mesh is smaller than the real one, see --smpl).

    .venv/bin/python bench/crowdnet_throughput.py [--crops 64] [--device cpu|cuda] [--precision fp32|bf16|fp16]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inference_server.camera import full_image_camera  # noqa: E402
from inference_server.estimators.crowdnet.predictor import CrowdNetPredictor, PersonRequest  # noqa: E402
from tests.helpers.crowdnet_files import official_network_dict, random_network, write_checkpoint  # noqa: E402
from tests.helpers.release_style import use_release_loops  # noqa: E402
from tests.helpers.synthetic_smpl import write_npz  # noqa: E402

COCO_TEMPLATE = np.array([
    [0, -120], [-5, -125], [5, -125], [-10, -120], [10, -120], [-30, -90], [30, -90], [-40, -40], [40, -40],
    [-45, 0], [45, 0], [-20, 0], [20, 0], [-22, 60], [22, 60], [-24, 120], [24, 120],
], dtype=float)  # fmt: skip


def make_people(count: int, frames: int, rng: np.random.Generator) -> list[PersonRequest]:
    people = []
    for i in range(count):
        centre = rng.uniform([120, 160], [1160, 560])
        points = COCO_TEMPLATE * rng.uniform(0.5, 1.2) + centre
        people.append(PersonRequest(i % frames, np.concatenate([points, np.full((17, 1), 0.9)], axis=1)))
    return people


def timed(fn, repeats: int = 1) -> float:
    fn()  # warm-up (allocator, kernels)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=int, default=64, help="people per measurement (default 64)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--checkpoint", type=Path, help="a real 3DCrowdNet checkpoint (default: random weights)")
    parser.add_argument("--smpl", type=Path, help="a real SMPL model file (default: the synthetic one)")
    args = parser.parse_args()

    torch.set_grad_enabled(False)
    rng = np.random.default_rng(0)
    frames = 8
    images = [rng.integers(0, 255, size=(720, 1280, 3), dtype=np.uint8) for _ in range(frames)]
    people = make_people(args.crops, frames, rng)
    camera = full_image_camera(1280, 720)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.checkpoint or write_checkpoint(
            Path(tmp) / "demo_checkpoint.pth.tar", official_network_dict(random_network())
        )
        smpl = args.smpl or write_npz(Path(tmp) / "SMPL_NEUTRAL.npz")
        options = {"device": args.device, "precision": args.precision}
        loop, _ = CrowdNetPredictor.from_files(checkpoint, smpl=smpl, batch_size=1, channels_last=False, **options)
        use_release_loops(loop.network)
        print(f"3DCrowdNet throughput — {platform.processor() or platform.machine()}, torch {torch.__version__}, "
              f"threads {torch.get_num_threads()}, device {loop.device}, precision {args.precision}, "
              f"{args.crops} people from {frames} 1280x720 frames")  # fmt: skip
        # The release demo: one person per call (preprocess, network at batch 1, SMPL) in a Python loop, with
        # the release's per-joint loops inside the GCN and feature sampling, and default memory format.
        loop_seconds = timed(lambda: [loop.predict(images, [p], camera) for p in people])
        loop_rate = args.crops / loop_seconds
        print(f"{'one person per call (release demo shape)':<44}{loop_rate:8.2f} crops/s   1.00x")
        reference = [loop.predict(images, [p], camera)[0] for p in people]
        for batch in args.batches:
            predictor, _ = CrowdNetPredictor.from_files(checkpoint, smpl=smpl, batch_size=batch, **options)
            rate = args.crops / timed(lambda p=predictor: p.predict(images, people, camera))
            estimates = predictor.predict(images, people, camera)
            diff = max(float(np.abs(a.joints - b.joints).max()) for a, b in zip(estimates, reference, strict=True))
            print(f"{f'batched, batch size {batch}':<44}{rate:8.2f} crops/s {rate / loop_rate:6.2f}x"
                  f"   max |joints - loop| {diff:.1e} m")  # fmt: skip


if __name__ == "__main__":
    main()
