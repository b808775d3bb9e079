"""Crowd-grade 2D pose models from OpenMMLab's ONNX exports (Apache-2.0), run with onnxruntime.

- ``RtmoBackend``: RTMO, one stage (people and keypoints in one pass), the strongest on CrowdPose.
  Signature: input ``(1, 3, H, W)`` BGR 0-255 letterboxed to the top-left on grey 114; outputs
  ``dets (1, N, 5)`` (x0, y0, x1, y1, score) and ``keypoints (1, N, 17, 3)`` (x, y, score).
- ``RtmPoseBackend``: a person detector then RTMPose on each box. Detector signatures: the mmdeploy
  end-to-end export (``dets (1, N, 5)``, ``labels (1, N)``) or a raw YOLOX head ``(1, A, 5 + C)``
  decoded on strides 8/16/32. RTMPose: input ``(1, 3, h, w)`` RGB normalised with ImageNet mean/std,
  the box enlarged 1.25x and fitted to w:h; outputs SimCC ``simcc_x (1, 17, 2w)``, ``simcc_y (1, 17, 2h)``.

Pre- and post-processing are plain functions, tested on hand-made arrays.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .boxes import box_sizes, boxes_from_centres, non_max_suppression
from .types import FramePoses, PersonPose

LETTERBOX_FILL = 114
IMAGENET_MEAN_RGB = np.array([123.675, 116.28, 103.53])
IMAGENET_STD_RGB = np.array([58.395, 57.12, 57.375])
SIMCC_SPLIT_RATIO = 2.0
RTMPOSE_BOX_PADDING = 1.25
YOLOX_STRIDES = (8, 16, 32)
# NMS also drops a box lying this much inside a better one (a duplicate on part of a body). Unmeasured on
# crowds, where a small person can stand in front of a big one; it keeps the detections these backends gave.
NMS_CONTAINMENT = 0.7


class OnnxModelError(RuntimeError):
    """An ONNX model file is missing or does not have the signature its backend expects."""


def _session(path: str | Path):
    import onnxruntime as ort

    model = Path(path).expanduser()
    if not model.is_file():
        raise OnnxModelError(f"ONNX model {model} does not exist (see `crowdmocap-server models`)")
    try:
        return ort.InferenceSession(str(model), providers=ort.get_available_providers())
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
        raise OnnxModelError(f"{model} is not a loadable ONNX model ({exc})") from exc


def _input_hw(session, path) -> tuple[int, int]:
    shape = session.get_inputs()[0].shape
    if len(shape) != 4 or not all(isinstance(d, int) for d in shape[2:]):
        raise OnnxModelError(f"{path}: expected a fixed (1, 3, H, W) input, found {shape}")
    return int(shape[2]), int(shape[3])


def letterbox(image: np.ndarray, height: int, width: int) -> tuple[np.ndarray, float]:
    """Resize keeping aspect into the top-left of a grey (114) canvas; returns (canvas, ratio)."""
    ratio = min(height / image.shape[0], width / image.shape[1])
    resized = cv2.resize(
        image, (int(image.shape[1] * ratio), int(image.shape[0] * ratio)), interpolation=cv2.INTER_LINEAR
    )
    canvas = np.full((height, width, 3), LETTERBOX_FILL, np.uint8)
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    return canvas, ratio


def _to_blob(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)


def _proper(boxes: np.ndarray, min_side: float = 2.0) -> np.ndarray:
    """(N, 4) -> (N,) True where the box is at least ``min_side`` pixels wide and tall."""
    return (box_sizes(boxes) >= min_side).all(axis=1)


def _suppress(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by NMS, best first; both backends merge their duplicates the same way."""
    return non_max_suppression(boxes, scores, iou, max_containment=NMS_CONTAINMENT)


def decode_rtmo(dets: np.ndarray, keypoints: np.ndarray, ratio: float, *, score_threshold: float, nms_iou: float):
    """dets (1, N, 5), keypoints (1, N, 17, 3) in letterbox pixels -> people in image pixels."""
    boxes, scores = dets[0, :, :4] / ratio, dets[0, :, 4]
    points = keypoints[0].astype(np.float64).copy()
    points[:, :, :2] /= ratio
    points[:, :, 2] = np.clip(points[:, :, 2], 0.0, 1.0)
    chosen = (scores >= score_threshold) & _proper(boxes)
    boxes, scores, points = boxes[chosen], scores[chosen], points[chosen]
    keep = _suppress(boxes, scores, nms_iou)
    return [PersonPose(points[i], boxes[i].astype(np.float64), float(scores[i])) for i in keep]


def decode_detector(outputs: list[np.ndarray], ratio: float, input_hw: tuple[int, int], *, score_threshold: float,
                    nms_iou: float, person_class: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Person boxes (M, 4) and scores (M,) in image pixels from an end-to-end or raw-YOLOX detector output."""
    if len(outputs) >= 2 and outputs[0].ndim == 3 and outputs[0].shape[-1] == 5:  # mmdeploy end2end
        dets, labels = outputs[0][0], outputs[1][0]
        boxes, scores = dets[:, :4].astype(np.float64), dets[:, 4].astype(np.float64)
        chosen = (labels == person_class) & (scores >= score_threshold)
        boxes, scores = boxes[chosen], scores[chosen]
    else:  # raw YOLOX head: (1, A, 4 box + 1 objectness + C classes) over the stride grids
        raw = outputs[0][0].astype(np.float64)
        grids, strides = [], []
        for stride in YOLOX_STRIDES:
            h, w = input_hw[0] // stride, input_hw[1] // stride
            xv, yv = np.meshgrid(np.arange(w), np.arange(h))
            grids.append(np.stack([xv, yv], -1).reshape(-1, 2))
            strides.append(np.full((h * w, 1), stride))
        grid, stride_col = np.concatenate(grids), np.concatenate(strides)
        if raw.shape[0] != len(grid):
            raise OnnxModelError(f"detector output has {raw.shape[0]} anchors; a {input_hw} YOLOX head has {len(grid)}")
        boxes = boxes_from_centres((raw[:, :2] + grid) * stride_col, np.exp(raw[:, 2:4]) * stride_col)
        scores = raw[:, 4] * raw[:, 5 + person_class]
        boxes, scores = boxes[scores >= score_threshold], scores[scores >= score_threshold]
    boxes = boxes / ratio
    boxes, scores = boxes[_proper(boxes)], scores[_proper(boxes)]
    keep = _suppress(boxes, scores, nms_iou)
    return boxes[keep], scores[keep]


def rtmpose_crop(box: np.ndarray, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Box x0, y0, x1, y1 -> (2, 3) affine into the model input, the crop centre and its (w, h) in pixels."""
    height, width = input_hw
    centre = (box[:2] + box[2:]) / 2
    size = (box[2:] - box[:2]) * RTMPOSE_BOX_PADDING
    aspect = width / height
    size = (
        np.array([size[0], size[0] / aspect]) if size[0] > size[1] * aspect else np.array([size[1] * aspect, size[1]])
    )
    scale = width / size[0]
    affine = np.array([[scale, 0, width / 2 - centre[0] * scale], [0, scale, height / 2 - centre[1] * scale]])
    return affine, centre, size


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, centre: np.ndarray, size: np.ndarray,
                 input_hw: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """(1, 17, Wx), (1, 17, Wy) -> (17, 3) image-pixel keypoints; the score is min(max_x, max_y)."""
    x_bin, y_bin = simcc_x[0].argmax(-1), simcc_y[0].argmax(-1)
    score = np.minimum(simcc_x[0].max(-1), simcc_y[0].max(-1))
    local = np.stack([x_bin, y_bin], -1) / SIMCC_SPLIT_RATIO  # model-input pixels
    points = local / np.array([input_hw[1], input_hw[0]]) * size + centre - size / 2
    return np.concatenate([points, np.clip(score, 0.0, 1.0)[:, None]], axis=1)


class RtmoBackend:
    name = "rtmo"

    def __init__(self, model: str | Path, *, score_threshold: float = 0.5, nms_iou: float = 0.45) -> None:
        self.session = _session(model)
        self.input_hw = _input_hw(self.session, model)
        shapes = [o.shape for o in self.session.get_outputs()]
        if len(shapes) != 2 or len(shapes[0]) != 3 or len(shapes[1]) != 4 or shapes[1][-1] != 3:
            raise OnnxModelError(
                f"{model}: RTMO has two outputs, dets (1, N, 5) and keypoints (1, N, 17, 3); this model gives {shapes}"
            )
        self.score_threshold, self.nms_iou = score_threshold, nms_iou

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> FramePoses:
        canvas, ratio = letterbox(image[..., ::-1], *self.input_hw)  # the export expects BGR
        dets, keypoints = self.session.run(None, {self.session.get_inputs()[0].name: _to_blob(canvas)})
        people = decode_rtmo(dets, keypoints, ratio, score_threshold=self.score_threshold, nms_iou=self.nms_iou)
        return FramePoses(index, time, people)

    def close(self) -> None:
        self.session = None


class RtmPoseBackend:
    name = "rtmpose"

    def __init__(self, pose_model: str | Path, detector_model: str | Path, *, score_threshold: float = 0.5,
                 nms_iou: float = 0.45) -> None:  # fmt: skip
        self.pose = _session(pose_model)
        self.pose_hw = _input_hw(self.pose, pose_model)
        self.detector = _session(detector_model)
        self.detector_hw = _input_hw(self.detector, detector_model)
        self.score_threshold, self.nms_iou = score_threshold, nms_iou

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        canvas, ratio = letterbox(image[..., ::-1], *self.detector_hw)
        outputs = self.detector.run(None, {self.detector.get_inputs()[0].name: _to_blob(canvas)})
        return decode_detector(outputs, ratio, self.detector_hw, score_threshold=self.score_threshold,
                               nms_iou=self.nms_iou)  # fmt: skip

    def estimate(self, image: np.ndarray, box: np.ndarray, score: float) -> PersonPose:
        affine, centre, size = rtmpose_crop(box, self.pose_hw)
        crop = cv2.warpAffine(image, affine, (self.pose_hw[1], self.pose_hw[0]), flags=cv2.INTER_LINEAR)
        blob = _to_blob((crop - IMAGENET_MEAN_RGB) / IMAGENET_STD_RGB)
        simcc_x, simcc_y = self.pose.run(None, {self.pose.get_inputs()[0].name: blob})[:2]
        return PersonPose(decode_simcc(simcc_x, simcc_y, centre, size, self.pose_hw), box, score)

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> FramePoses:
        boxes, scores = self.detect(image)
        return FramePoses(index, time, [self.estimate(image, b, float(s)) for b, s in zip(boxes, scores, strict=True)])

    def close(self) -> None:
        self.pose = self.detector = None
