"""NanoDet-g on frames of other shapes: how many of the annotated people it finds, stretched, letterboxed
or in square windows.

The shared clips are 4:3; most footage is 16:9 or 9:16. Each annotated frame of ``tests/data/ground_truth``
is cut to a 16:9 band and a 9:16 strip, or put side by side with itself (2.67:1), and the detector alone
(no landmarks, no tracking) is scored against the non-hard people inside the cut at IoU >= 0.3, three
ways: the frame stretched to the 416 x 416 input (what ``NanoDetDetector`` does), letterboxed (padded to
a square with black), and in square windows along the long side (about 20 % overlap, merged by NMS).

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
from inference_server.poses2d.nanodet import MODEL_ONNX, NMS_IOU, NanoDetDetector  # noqa: E402
from inference_server.tracking.evaluation import load_ground_truth  # noqa: E402

DATA = REPO / "tests" / "data"
CLIPS = ("vtest_first10s", "vtest_25s_to_50s")
SHAPES = {
    "4:3 whole": None,
    "16:9 band": (72, 504, 0, 768),
    "9:16 strip": (0, 576, 222, 546),
    "2.67:1 side by side": "twice",
}  # crops as (y0, y1, x0, x1) of the 768 x 576 frame
Detect = Callable[[np.ndarray], np.ndarray]


def letterboxed(detector: NanoDetDetector) -> Detect:
    def detect(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        canvas = np.zeros((max(height, width), max(height, width), 3), np.uint8)
        canvas[:height, :width] = image
        return detector.detect_whole(canvas)[0]

    return detect


def padded_to_four_three(detector: NanoDetDetector) -> Detect:
    def detect(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        padded_h, padded_w = max(height, round(width * 3 / 4)), max(width, round(height * 3 / 4))
        canvas = np.zeros((padded_h, padded_w, 3), np.uint8)
        canvas[:height, :width] = image
        return detector.detect_whole(canvas)[0]

    return detect


def square_windows(detector: NanoDetDetector) -> Detect:
    def detect(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        side, long = min(height, width), max(height, width)
        count = int(np.ceil(long / side * 1.2 - 1e-9))
        starts = np.linspace(0, long - side, count).round().astype(int) if count > 1 else np.array([0])
        boxes, scores = [], []
        for start in starts:
            crop = image[:, start : start + side] if width >= height else image[start : start + side]
            found, score = detector.detect_whole(np.ascontiguousarray(crop))
            shift = [start, 0, start, 0] if width >= height else [0, start, 0, start]
            boxes.append(found + np.array(shift))
            scores.append(score)
        boxes_all, scores_all = np.concatenate(boxes), np.concatenate(scores)
        return boxes_all[non_max_suppression(boxes_all, scores_all, NMS_IOU)]

    return detect


def shaped(image: np.ndarray, boxes: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """The frame and its people's boxes cut (or doubled) to ``shape``; people not wholly inside are left out."""
    if shape is None:
        return image, boxes
    if shape == "twice":
        return np.ascontiguousarray(np.tile(image, (1, 2, 1))), np.concatenate([boxes, boxes + [768, 0, 768, 0]])
    y0, y1, x0, x1 = shape
    moved = boxes - [x0, y0, x0, y0]
    inside = (moved[:, :2] >= 0).all(axis=1) & (moved[:, 2] <= x1 - x0) & (moved[:, 3] <= y1 - y0)
    return np.ascontiguousarray(image[y0:y1, x0:x1]), moved[inside]


def main() -> None:
    folder = find_spec("nanodet-g").locate(models_dir())
    if folder is None:
        raise SystemExit("nanodet-g is not in the models folder: `crowdmocap-server models fetch nanodet-g`")
    detector = NanoDetDetector(Path(folder) / MODEL_ONNX if Path(folder).is_dir() else folder)
    methods = {"stretched": lambda image: detector.detect_whole(image)[0], "letterboxed": letterboxed(detector),
               "padded to 4:3": padded_to_four_three(detector),
               "square windows": square_windows(detector)}  # fmt: skip
    print("NanoDet-g alone, people found at IoU >= 0.3 (non-hard, annotated frames of both clips)")
    print(f"{'shape':<22}" + "".join(f"{name:>16}" for name in methods))
    found = {(shape, name): [0, 0] for shape in SHAPES for name in methods}
    for clip in CLIPS:
        truth = load_ground_truth(DATA / "ground_truth" / f"{clip}.json")
        for frame in open_footage(DATA / f"{clip}.avi").frames(stop=max(truth.frames) + 1):
            if frame.index not in truth.frames:
                continue
            people = np.array([p.box for p in truth.frames[frame.index] if not p.hard], dtype=np.float64).reshape(-1, 4)
            for shape_name, shape in SHAPES.items():
                image, boxes = shaped(frame.image, people, shape)
                for name, detect in methods.items():
                    predicted = detect(image) if len(boxes) else np.zeros((0, 4))
                    hits = int((box_iou(boxes, predicted).max(axis=1) >= 0.3).sum()) if len(predicted) else 0
                    found[shape_name, name][0] += hits
                    found[shape_name, name][1] += len(boxes)
    for shape_name in SHAPES:
        cells = (f"{found[shape_name, n][0]:>10} / {found[shape_name, n][1]:<3}" for n in methods)
        print(f"{shape_name:<22}" + "".join(cells))


if __name__ == "__main__":
    main()
