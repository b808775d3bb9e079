"""The whole 2D stage on footage of other shapes: the street clips cut to 16:9 and 9:16, or doubled to 2.67:1.

``bench/detector_aspect.py`` scores the detector alone; this runs the default 2D stage (NanoDet-g, the
landmark network, the second look, the tracker and re-linking, as ``bench/pose_stage.py``'s new-default
row) on each clip cut to a 16:9 band (768 x 432) or a 9:16 strip (324 x 576), or put side by side with
itself (1536 x 576; the right copy's people get new identities), written losslessly (FFV1) at the clip's
frame rate. Each is scored against the ground truth cut the same way: people wholly inside keep their
flag, people only partly inside become hard (neither a miss nor a false positive). Three ways to feed
the detector: stretched (the reference recipe, the default until 2026-12-04), letterboxed (padded to a
square), and today's default (padded to 4:3; 4:3 windows beyond 2:1).

.venv/bin/python bench/pose_stage_shapes.py [--shapes band strip twice]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pose_stage import CLIPS, DATA, IOUS, LANDMARKS, NANODET, Letterboxed, Setup, Stretched, run_setup, track_boxes  # noqa: E402

from inference_server.footage import open_footage  # noqa: E402
from inference_server.poses2d.blazepose import BlazePoseSettings, BlazePoseTopDown  # noqa: E402
from inference_server.poses2d.nanodet import NanoDetDetector  # noqa: E402
from inference_server.tracking.evaluation import GroundTruth, TruthPerson, evaluate, load_ground_truth  # noqa: E402

SHAPES = {"band": (72, 504, 0, 768), "strip": (0, 576, 222, 546), "twice": None}  # (y0, y1, x0, x1) of 768 x 576
TWIN_ID = 1000  # identity offset of the right copy's people


def stage(detector: type[NanoDetDetector]) -> Setup:
    make = lambda: BlazePoseTopDown(BlazePoseSettings(), detector=detector(NANODET), landmarks=LANDMARKS)  # noqa: E731
    return Setup(detector.__name__, make, relink=True)


def shaped_image(image: np.ndarray, shape: str) -> np.ndarray:
    if SHAPES[shape] is None:
        return np.ascontiguousarray(np.tile(image, (1, 2, 1)))
    y0, y1, x0, x1 = SHAPES[shape]
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def shaped_clip(clip: Path, shape: str, out: Path) -> Path:
    """``clip`` cut (or doubled) to ``shape``, losslessly, at its own frame rate."""
    footage = open_footage(clip)
    container = av.open(str(out), "w")
    stream = container.add_stream("ffv1", rate=Fraction(footage.info.fps).limit_denominator(1001))
    first = shaped_image(next(iter(footage.frames(stop=1))).image, shape)
    stream.height, stream.width, stream.pix_fmt = first.shape[0], first.shape[1], "bgr0"
    for frame in footage.frames():
        for packet in stream.encode(av.VideoFrame.from_ndarray(shaped_image(frame.image, shape), format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return out


def shaped_truth(truth: GroundTruth, shape: str) -> GroundTruth:
    """The ground truth cut (or doubled) as the footage was: partly inside -> hard, clipped to the cut."""
    frames: dict[int, list[TruthPerson]] = {}
    if SHAPES[shape] is None:
        for index, people in truth.frames.items():
            twins = [
                replace(p, id=p.id + TWIN_ID, box=p.box + np.array([truth.width, 0, truth.width, 0])) for p in people
            ]
            frames[index] = list(people) + twins
        return replace(truth, width=2 * truth.width, frames=frames)
    y0, y1, x0, x1 = SHAPES[shape]
    size = np.array([x1 - x0, y1 - y0, x1 - x0, y1 - y0], np.float64)
    for index, people in truth.frames.items():
        kept = []
        for person in people:
            moved = np.asarray(person.box, np.float64) - [x0, y0, x0, y0]
            clipped = np.clip(moved, 0, size)
            if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
                continue  # wholly outside
            whole = bool((moved == clipped).all())
            kept.append(replace(person, box=clipped, hard=person.hard or not whole))
        frames[index] = kept
    return replace(truth, width=x1 - x0, height=y1 - y0, frames=frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    args = parser.parse_args()
    if NANODET is None or LANDMARKS is None:
        raise SystemExit("needs nanodet-g and blazepose-full in the models folder (`crowdmocap-server models fetch`)")
    print("Default 2D stage + re-linking on the street clips cut to other shapes (identities at IoU 0.5)")
    print(f"{'shape':<7}{'detector input':<14}{'clip':<18}{'R@.5  P@.5   R@.3  P@.3':<26}"
          f"{'IDsw':>5} {'trk/p':>6} {'2-p':>5} {'IDF1':>5} {'ms/frm':>7}")  # fmt: skip
    with tempfile.TemporaryDirectory() as work:
        for shape in args.shapes:
            for clip in CLIPS:
                footage = shaped_clip(clip, shape, Path(work) / f"{clip.stem}_{shape}.mkv")
                truth = shaped_truth(load_ground_truth(DATA / "ground_truth" / f"{clip.stem}.json"), shape)
                for detector in (Stretched, Letterboxed, NanoDetDetector):
                    tracks, ms = run_setup(stage(detector), footage)
                    scores = {iou: evaluate(truth, track_boxes(tracks), iou) for iou in IOUS}
                    detection = "  ".join(f"{scores[i]['recall']:5.2f} {scores[i]['precision']:5.2f}" for i in IOUS)
                    ids = scores[0.5]
                    name = "default" if detector is NanoDetDetector else detector.__name__.lower()
                    print(f"{shape:<7}{name:<14}{clip.stem:<18}{detection}   {ids['id_switches']:4.0f}"
                          f" {ids['tracks_per_person']:6.2f} {ids['two_person_tracks']:5.0f} {ids['idf1']:5.2f}"
                          f" {ms:7.0f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
