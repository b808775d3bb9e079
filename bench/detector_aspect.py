"""NanoDet-g on frames of other shapes: how many of the annotated people it finds, stretched, letterboxed
or in square windows, and how many boxes it gives that are nobody.

The shared clips are 4:3; most footage is 16:9 or 9:16. Each annotated frame of ``tests/data/ground_truth``
is cut to a 16:9 band and a 9:16 strip, or put side by side with itself (2.67:1), and the detector alone
(no landmarks, no tracking) is scored against the non-hard people inside the cut at IoU >= 0.3: the frame
stretched to the 416 x 416 input (the reference recipe, and the detector's default until 2026-12-04),
letterboxed (scaled to fit, padded with black), padded with black to 4:3 and stretched, in square windows
along the long side (at least 20 % overlap, merged by NMS), and as ``NanoDetDetector`` does it today
(padded to 4:3 up to 2:1, 4:3 windows beyond). "Extra" boxes are those left over after matching each box
one-to-one to an annotated person (hard ones too, and people only partly inside the cut) at IoU >= 0.3:
false positives and duplicates.

.venv/bin/python bench/detector_aspect.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inference_server.footage import open_footage  # noqa: E402
from inference_server.model_files.catalogue import find_spec  # noqa: E402
from inference_server.model_files.folder import models_dir  # noqa: E402
from inference_server.poses2d.boxes import box_iou, non_max_suppression  # noqa: E402
from inference_server.poses2d.nanodet import NanoDetDetector, decode, stretched  # noqa: E402
from inference_server.tracking.evaluation import load_ground_truth  # noqa: E402

DATA = REPO / "tests" / "data"
CLIPS = ("vtest_first10s", "vtest_25s_to_50s")
SHAPES = {
    "4:3 whole": None,
    "16:9 band": (72, 504, 0, 768),
    "9:16 strip": (0, 576, 222, 546),
    "2.67:1 side by side": "twice",
}  # crops as (y0, y1, x0, x1) of the 768 x 576 frame
Detect = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # image -> boxes (N, 4), scores (N,)


def stretched_whole(detector: NanoDetDetector) -> Detect:
    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        blob, to_frame = stretched(image)
        scores, distributions = detector.raw(blob)
        return decode(scores, distributions, to_frame, image.shape[:2], score_threshold=detector.score_threshold,
                      nms_iou=detector.nms_iou)  # fmt: skip

    return detect


def letterboxed(detector: NanoDetDetector) -> Detect:
    stretch = stretched_whole(detector)

    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        height, width = image.shape[:2]
        canvas = np.zeros((max(height, width), max(height, width), 3), np.uint8)
        canvas[:height, :width] = image
        boxes, scores = stretch(canvas)
        return np.minimum(boxes, [width, height, width, height]), scores

    return detect


def square_windows(detector: NanoDetDetector) -> Detect:
    stretch = stretched_whole(detector)

    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        height, width = image.shape[:2]
        side, long = min(height, width), max(height, width)
        count = int(np.ceil((long - side) / (side * 0.8) - 1e-9)) + 1
        boxes, scores = [], []
        for start in np.linspace(0, long - side, count).round().astype(int):
            crop = image[:, start : start + side] if width >= height else image[start : start + side]
            found, score = stretch(np.ascontiguousarray(crop))
            boxes.append(found + np.array([start, 0, start, 0] if width >= height else [0, start, 0, start]))
            scores.append(score)
        boxes_all, scores_all = np.concatenate(boxes), np.concatenate(scores)
        keep = non_max_suppression(boxes_all, scores_all, detector.nms_iou)
        return boxes_all[keep], scores_all[keep]

    return detect


def one_to_one_matches(truth: np.ndarray, predicted: np.ndarray, iou: float = 0.3) -> int:
    """How many predicted boxes pair off with distinct annotated ones at ``iou`` or more (greedy, best first)."""
    if len(truth) == 0 or len(predicted) == 0:
        return 0
    overlaps = box_iou(truth, predicted)
    matched = 0
    while overlaps.size and overlaps.max() >= iou:
        row, column = np.unravel_index(overlaps.argmax(), overlaps.shape)
        overlaps[row, :], overlaps[:, column] = -1, -1
        matched += 1
    return matched


def shaped(image: np.ndarray, boxes: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frame and its people's boxes cut (or doubled) to ``shape``: the boxes wholly inside, and all that
    reach inside, clipped to the cut."""
    if shape is None:
        return image, boxes, boxes
    if shape == "twice":
        doubled = np.concatenate([boxes, boxes + [768, 0, 768, 0]])
        return np.ascontiguousarray(np.tile(image, (1, 2, 1))), doubled, doubled
    y0, y1, x0, x1 = shape
    moved = boxes - [x0, y0, x0, y0]
    inside = (moved[:, :2] >= 0).all(axis=1) & (moved[:, 2] <= x1 - x0) & (moved[:, 3] <= y1 - y0)
    clipped = np.clip(moved, 0, [x1 - x0, y1 - y0, x1 - x0, y1 - y0])
    reaching = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    return np.ascontiguousarray(image[y0:y1, x0:x1]), moved[inside], clipped[reaching]


def main() -> None:
    folder = find_spec("nanodet-g").locate(models_dir())
    if folder is None:
        raise SystemExit("nanodet-g is not in the models folder: `crowdmocap-server models fetch nanodet-g`")
    detector = NanoDetDetector(folder)  # the .onnx file
    methods = {"stretched": stretched_whole(detector), "letterboxed": letterboxed(detector),
               "padded to 4:3": detector.detect_whole, "square windows": square_windows(detector),
               "default": detector}  # fmt: skip
    print("NanoDet-g alone: people found at IoU >= 0.3 / non-hard people (annotated frames of both clips), extra boxes")
    print(f"{'shape':<22}" + "".join(f"{name:>18}" for name in methods))
    found = {(shape, name): [0, 0, 0] for shape in SHAPES for name in methods}
    for clip in CLIPS:
        truth = load_ground_truth(DATA / "ground_truth" / f"{clip}.json")
        for frame in open_footage(DATA / f"{clip}.avi").frames(stop=max(truth.frames) + 1):
            if frame.index not in truth.frames:
                continue
            annotated = truth.frames[frame.index]
            people = np.array([p.box for p in annotated if not p.hard], dtype=np.float64).reshape(-1, 4)
            everyone = np.array([p.box for p in annotated], dtype=np.float64).reshape(-1, 4)
            for shape_name, shape in SHAPES.items():
                image, boxes, _ = shaped(frame.image, people, shape)
                _, _, anyone = shaped(frame.image, everyone, shape)
                for name, detect in methods.items():
                    predicted = detect(image)[0]
                    hits = int((box_iou(boxes, predicted).max(axis=1) >= 0.3).sum()) if len(predicted) else 0
                    tally = found[shape_name, name]
                    tally[0] += hits
                    tally[1] += len(boxes)
                    tally[2] += len(predicted) - one_to_one_matches(anyone, predicted)
    for shape_name in SHAPES:
        cells = (
            f"{found[shape_name, n][0]:>8} / {found[shape_name, n][1]:<3}{found[shape_name, n][2]:>4}" for n in methods
        )
        print(f"{shape_name:<22}" + "".join(cells))


if __name__ == "__main__":
    main()
