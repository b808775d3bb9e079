"""2D pose stage on the shared street clips: speed per backend, and detection + tracking against ground truth.

Speed: frames/s and ms per person for each backend on the first clip. Accuracy: each backend runs on
every frame of both clips, the tracker links its people, and the tracks' boxes are scored at the
hand-annotated frames of ``tests/data/ground_truth`` (see its README): on observed frames (what the 2D
stage saw), and at IoU 0.3 also with the filled frames (every box the result file carries).

.venv/bin/python bench/pose_stage.py [--frames 30] [--skip-accuracy] [--sensitivity]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inference_server.footage import open_footage  # noqa: E402
from inference_server.model_files.catalogue import find_spec  # noqa: E402
from inference_server.model_files.folder import models_dir  # noqa: E402
from inference_server.pipeline.options import CaptureOptions  # noqa: E402
from inference_server.pipeline.progress import CancelToken, StageMeter  # noqa: E402
from inference_server.pipeline.run import people_tracks  # noqa: E402
from inference_server.pipeline.stream import pose_and_track  # noqa: E402
from inference_server.poses2d.blazepose import BlazePoseSettings, BlazePoseTopDown  # noqa: E402
from inference_server.poses2d.nanodet import NanoDetDetector, decode, stretched  # noqa: E402
from inference_server.tracking.evaluation import Prediction, evaluate, load_ground_truth  # noqa: E402
from inference_server.tracking.tracker import Track, Tracker  # noqa: E402

DATA = REPO / "tests" / "data"
STREET = DATA / "vtest_first10s.avi"
CLIPS = [DATA / "vtest_first10s.avi", DATA / "vtest_25s_to_50s.avi"]
NANODET = find_spec("nanodet-g").locate(models_dir())
LANDMARKS = find_spec("blazepose-full").locate(models_dir())


class Stretched(NanoDetDetector):
    """NanoDet-g on the frame stretched to its input whatever its shape (the default until 2026-12-04)."""

    def windows(self, height: int, width: int) -> list[tuple[int, int, int, int]]:
        return [(0, height, 0, width)]

    def detect_whole(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        blob, to_frame = stretched(image)
        scores, distributions = self.raw(blob)
        return decode(scores, distributions, to_frame, image.shape[:2], score_threshold=self.score_threshold,
                      nms_iou=self.nms_iou)  # fmt: skip


class Letterboxed(Stretched):
    """NanoDet-g on the frame padded with black to a square, then scaled to its input: people keep their shape."""

    def detect_whole(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        height, width = image.shape[:2]
        canvas = np.zeros((max(height, width), max(height, width), 3), np.uint8)
        canvas[:height, :width] = image
        boxes, scores = super().detect_whole(canvas)
        inside = (boxes[:, 0] < width) & (boxes[:, 1] < height)
        return np.minimum(boxes[inside], [width, height, width, height]), scores[inside]


@dataclass(frozen=True)
class Setup:
    """One row: how people are proposed and whether the tracker's regions and re-linking are used."""

    name: str
    make: Callable[[], BlazePoseTopDown]
    regions: bool = False
    relink: bool = False


# Compared row by row in one run: today's default first, then what changes one step at a time; the last
# re-link row is the new default (what `make` fetches). Rows before the second look switch it off.
ONE_LOOK = BlazePoseSettings(second_look_iou=0.0)
SETUPS: list[Setup] = [Setup("HOG + BlazePose (old default)", lambda: BlazePoseTopDown(ONE_LOOK))]
if NANODET is not None:
    SETUPS.append(Setup("NanoDet-g + BlazePose (MediaPipe)", lambda: BlazePoseTopDown(ONE_LOOK, detector=NANODET)))
if NANODET is not None and LANDMARKS is not None:

    def with_landmarks(settings: BlazePoseSettings = ONE_LOOK, tiles: int = 1) -> BlazePoseTopDown:
        return BlazePoseTopDown(settings, detector=NANODET, landmarks=LANDMARKS, detector_tiles=tiles)

    def letterboxed_default() -> BlazePoseTopDown:
        return BlazePoseTopDown(BlazePoseSettings(), detector=Letterboxed(NANODET), landmarks=LANDMARKS)

    SETUPS += [
        Setup("NanoDet-g + landmark network", with_landmarks),
        Setup("  + 2x2 tiles", lambda: with_landmarks(tiles=2)),
        Setup("  + tracked regions", with_landmarks, regions=True),
        Setup("  + re-link", with_landmarks, relink=True),
        Setup("  + re-link + second look, letterboxed", letterboxed_default, relink=True),
        Setup("  + re-link + second look (new default)", lambda: with_landmarks(BlazePoseSettings()), relink=True),
        Setup("  + re-link + second look + regions", lambda: with_landmarks(BlazePoseSettings()), True, True),
    ]
SETUPS.insert(1, Setup("HOG + BlazePose + second look (fallback)", BlazePoseTopDown))
IOUS = (0.5, 0.3)


def speed(frames: int) -> None:
    """The original figures: decoding speed, then BlazePose's frames/s split into HOG and per-person time."""
    images = [f.image for f in open_footage(STREET).frames(stop=frames)]
    decode_start = time.perf_counter()
    decoded = sum(1 for _ in open_footage(STREET).frames(stop=frames))
    decode_seconds = time.perf_counter() - decode_start
    print(f"2D pose stage — {len(images)} frames of {STREET.name} (768x576)")
    print(f"{'decoding only (PyAV)':<34}{decoded / decode_seconds:8.1f} frames/s")
    with BlazePoseTopDown(ONE_LOOK) as backend:
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


class Timed:
    """A backend that adds up the time spent in it (decoding, tracking and the rest excluded)."""

    def __init__(self, backend: BlazePoseTopDown, regions: bool) -> None:
        self.backend, self.takes_regions, self.name, self.seconds, self.calls = backend, regions, backend.name, 0.0, 0

    def __call__(self, image, index=0, time_s=0.0, **regions):
        start = time.perf_counter()
        try:
            return self.backend(image, index, time_s, **regions)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1

    def close(self) -> None:
        self.backend.close()


def run_setup(setup: Setup, clip: Path) -> tuple[list[Track], float]:
    """The clip's tracks as the pipeline makes them for this setup, and the 2D stage's ms per frame."""
    timed, tracker = Timed(setup.make(), setup.regions), Tracker()
    footage = open_footage(clip)
    try:
        meter = StageMeter("poses", footage.info.frame_count, "frames", None)
        pose_and_track(footage, (0, None, 1), backend=timed, tracker=tracker, meter=meter, cancel=CancelToken())
    finally:
        timed.close()
    tracks = people_tracks(tracker, CaptureOptions(relink=setup.relink), fps=float(footage.info.fps))  # as captures do
    return tracks, timed.seconds / max(timed.calls, 1) * 1000


def track_boxes(tracks: list[Track], *, filled: bool = False) -> dict[int, list[Prediction]]:
    """Frame index -> the tracks' keypoint boxes there: observed frames only (what the 2D stage saw), or
    with ``filled`` every frame of every track, as the result file carries them (a hidden person's box
    interpolated between sightings: what the animator's character shows)."""
    predictions: dict[int, list[Prediction]] = {}
    for track in tracks:
        for frame, box, seen in zip(track.frames, track.boxes, track.observed, strict=True):
            if seen or filled:
                predictions.setdefault(int(frame), []).append(Prediction(box=box, track_id=track.id))
    return predictions


def accuracy_row(name: str, clip: Path, tracks: list[Track], ms: float) -> str:
    truth = load_ground_truth(DATA / "ground_truth" / f"{clip.stem}.json")
    scores = {iou: evaluate(truth, track_boxes(tracks), iou) for iou in IOUS}
    detection = "  ".join(f"{scores[i]['recall']:5.2f} {scores[i]['precision']:5.2f}" for i in IOUS)
    result = evaluate(truth, track_boxes(tracks, filled=True), 0.3)
    ids = scores[0.5]  # identity figures at the stricter threshold
    return (f"{name:<38}{clip.stem:<18}{detection}   {result['recall']:5.2f} {result['precision']:5.2f}"
            f"   {ids['id_switches']:4.0f} {ids['tracks_per_person']:6.2f} {ids['two_person_tracks']:5.0f}"
            f" {ids['idf1']:5.2f} {ms:7.0f}")  # fmt: skip


HEADER = (f"{'backend':<38}{'clip':<18}{'R@.5  P@.5   R@.3  P@.3':<26}{'result@.3':<14}"
          f"{'IDsw':>5} {'trk/p':>6} {'2-p':>5} {'IDF1':>5} {'ms/frm':>7}")  # fmt: skip


def accuracy() -> None:
    print("\nAgainst ground truth (tracks' boxes at the annotated frames, observed frames; result@.3: recall and")
    print("precision of all the result's boxes, filled frames too, at IoU 0.3; identities at IoU 0.5)")
    print(HEADER)
    if NANODET is None or LANDMARKS is None:
        print("(nanodet-g or blazepose-full is not in the models folder: `crowdmocap-server models fetch` adds rows)")
    for setup in SETUPS:
        for clip in CLIPS:
            tracks, ms = run_setup(setup, clip)
            print(accuracy_row(setup.name, clip, tracks, ms), flush=True)


def sensitivity() -> None:
    """The new default with the second look's kept margin nudged by a pixel or two: how stable each figure is."""
    print("\nSecond-look margin (x, y) -> the new default's figures (identities at IoU 0.5)")
    print(HEADER)
    for margin in ((0.08, 0.05), (0.10, 0.05), (0.12, 0.05), (0.10, 0.03), (0.10, 0.08)):
        setup = Setup(f"  margin {margin}", lambda m=margin: with_landmarks(BlazePoseSettings(second_look_margin=m)),
                      relink=True)  # fmt: skip
        for clip in CLIPS:
            tracks, ms = run_setup(setup, clip)
            print(accuracy_row(setup.name, clip, tracks, ms), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--skip-accuracy", action="store_true", help="speed figures only")
    parser.add_argument("--sensitivity", action="store_true", help="also nudge the second look's margin")
    args = parser.parse_args()
    speed(args.frames)
    if not args.skip_accuracy:
        accuracy()
    if args.sensitivity and NANODET is not None and LANDMARKS is not None:
        sensitivity()


if __name__ == "__main__":
    main()
