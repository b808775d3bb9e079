"""The embedded default 2D pose backend: top-down MediaPipe BlazePose on proposed person boxes.

BlazePose's own detector misses the small people of typical crowd footage, so people are proposed by a
person detector: NanoDet-g (``nanodet.py``, fetched by ``make`` into the models folder) when it is
there, else OpenCV's HOG people detector on an upscaled frame (HOG's 64x128 window then covers people of
about 128 / upscale pixels). Duplicates are merged by non-maximum suppression, and BlazePose (the
``pose_landmark_full`` model bundled in ``mediapipe==0.10.21``) runs on a square crop around each box,
and around the regions where the tracker expects people it saw. A box where BlazePose finds no body, or
only a faint one, is dropped: that filters the detector's false positives. The 33 landmarks map to
COCO-17; BlazePose's metric 3D world landmarks are kept for the weights-free 3D estimator.

In a group, a crop holds two or three people and the landmark network answers for the most salient one:
the proposal on the half-hidden person beside them yields a copy of the neighbour's pose, which NMS
drops, and that person is lost. So each proposal that no kept pose explains gets a second look, on the
frame with everything outside its own box greyed out (``second_look``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .boxes import box_containment, box_from_keypoints, box_iou, boxes_from_xywh, non_max_suppression
from .types import FramePoses, PersonPose

# BlazePose landmark index of each COCO-17 keypoint.
BLAZEPOSE_TO_COCO = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


@dataclass(frozen=True, kw_only=True)
class BlazePoseSettings:
    upscale: float = 1.5  # HOG finds people from about 128 / upscale pixels tall
    hog_min_weight: float = 0.3  # HOG SVM margin below which a window is ignored
    nms_iou: float = 0.4
    nms_containment: float = 0.7  # NMS also drops boxes this much inside a kept one (HOG's half-body windows)
    crop_margin: float = 0.1  # the crop is the box enlarged by this fraction, made square; more pulls in neighbours
    # NanoDet's boxes are tight (head to feet) where HOG's windows carry ~25 % of background: grown by this
    # much they frame a person the way BlazePose's crops expect.
    detector_box_scale: float = 1.3
    crop_size: int = 256  # BlazePose's detector works best on a person filling a medium-sized image
    min_visibility: float = 0.4  # mean landmark visibility below which a BlazePose answer is dropped
    # A tracked region (a keypoint box, head to ankles) grown to a detector-like box around the whole body.
    region_scale: float = 1.5
    region_score: float = 1.0  # how regions rank against HOG's SVM margins (~0.3-2) when merged by NMS
    # A proposal whose box overlaps every kept pose's box less than this is someone the first look missed:
    # BlazePose looks again with the rest of the frame greyed out (0 disables the second look).
    second_look_iou: float = 0.4
    second_look_margin: tuple[float, float] = (0.1, 0.05)  # the kept area: the box grown by this (x, y) per side


class PersonDetector(Protocol):
    """Anything that proposes person boxes: (H, W, 3) RGB -> (N, 4) boxes and (N,) scores."""

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def close(self) -> None: ...


class BlazePoseTopDown:
    """Person proposals (NanoDet-g, or HOG without it) and the tracker's expected regions + BlazePose per crop.

    Call with an RGB frame. ``detector`` is a NanoDet-g ``.onnx`` file (or any ``PersonDetector``); None
    proposes with HOG, which needs no model file but finds about half as many people.
    """

    name = "blazepose-topdown"
    takes_regions = True

    def __init__(self, settings: BlazePoseSettings | None = None, detector: Path | PersonDetector | None = None,
                 *, detector_tiles: int = 1, landmarks: Path | None = None) -> None:  # fmt: skip
        self.settings = settings or BlazePoseSettings()
        self._pose = self._landmarks = None
        if landmarks is not None:  # the landmark network alone, straight on each box
            from .blazepose_landmarks import BlazePoseLandmarks, LandmarkSettings

            self._landmarks = BlazePoseLandmarks(landmarks, LandmarkSettings(
                crop_margin=self.settings.crop_margin, crop_size=self.settings.crop_size,
                min_visibility=self.settings.min_visibility))  # fmt: skip
        else:  # MediaPipe's solution, which runs its own person detector inside each crop first
            import mediapipe as mp  # optional dependency: imported only when this backend is used

            self._pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=False)
        self._hog = None
        if isinstance(detector, str | Path):
            from .nanodet import NanoDetDetector

            detector = NanoDetDetector(detector, tiles=detector_tiles)
        self._detector = detector
        if detector is None:
            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    @property
    def proposals(self) -> str:
        """What proposes people: "nanodet-g" or "hog" (for provenance and benches)."""
        return "hog" if self._detector is None else "nanodet-g"

    def close(self) -> None:
        for part in (self._pose, self._landmarks):
            if part is not None:
                part.close()
        if self._detector is not None:
            self._detector.close()

    def __enter__(self) -> BlazePoseTopDown:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def propose(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) RGB -> person boxes (N, 4) x0, y0, x1, y1 framed for BlazePose's crops, and scores (N,)."""
        boxes, scores = self.detect(image)
        return self.framed(boxes), scores

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The detector's own boxes (NanoDet: head to feet; HOG: its windows) and scores."""
        if self._detector is None:
            return self._propose_hog(image)
        boxes, scores = self._detector(image)
        return np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64).reshape(-1)

    def framed(self, boxes: np.ndarray) -> np.ndarray:
        """Detector boxes grown to frame a person the way BlazePose's crops expect (HOG's windows already do)."""
        if self._detector is None or len(boxes) == 0:
            return boxes
        centres, sizes = (
            (boxes[:, :2] + boxes[:, 2:]) / 2,
            (boxes[:, 2:] - boxes[:, :2]) * self.settings.detector_box_scale,
        )
        return np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)

    def _propose_hog(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """HOG people windows on the upscaled frame, after NMS with containment."""
        up = self.settings.upscale
        gray = cv2.cvtColor(cv2.resize(image, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR), cv2.COLOR_RGB2GRAY)
        rects, weights = self._hog.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.05)
        if len(rects) == 0:
            return np.zeros((0, 4)), np.zeros(0)
        boxes = boxes_from_xywh(np.asarray(rects, dtype=np.float64) / up)
        scores = np.ravel(weights).astype(np.float64)
        boxes, scores = boxes[scores >= self.settings.hog_min_weight], scores[scores >= self.settings.hog_min_weight]
        keep = self._suppress(boxes, scores)
        return boxes[keep], scores[keep]

    def _suppress(self, boxes: np.ndarray, scores: np.ndarray) -> list[int]:
        """NMS with containment: HOG's half-body windows inside a whole body overlap it too little for IoU."""
        return non_max_suppression(boxes, scores, self.settings.nms_iou, max_containment=self.settings.nms_containment)

    def estimate(self, image: np.ndarray, box: np.ndarray) -> PersonPose | None:
        """BlazePose on a square crop around ``box``; None when it finds no clear body there."""
        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0) * (1 + self.settings.crop_margin)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        size = self.settings.crop_size
        scale = size / side
        affine = np.array([[scale, 0, size / 2 - cx * scale], [0, scale, size / 2 - cy * scale]])
        crop = cv2.warpAffine(image, affine, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        found = self._pose.process(crop)
        if found.pose_landmarks is None:
            return None
        marks = np.array([[p.x, p.y, p.visibility] for p in found.pose_landmarks.landmark])  # (33, 3), crop units
        picked = marks[BLAZEPOSE_TO_COCO]
        if picked[:, 2].mean() < self.settings.min_visibility:
            return None
        keypoints = np.empty((17, 3))
        keypoints[:, 0] = (picked[:, 0] * size - size / 2) / scale + cx
        keypoints[:, 1] = (picked[:, 1] * size - size / 2) / scale + cy
        keypoints[:, 2] = np.clip(picked[:, 2], 0.0, 1.0)
        world = None
        if found.pose_world_landmarks is not None:
            world = np.array([[p.x, p.y, p.z] for p in found.pose_world_landmarks.landmark])
        tight = box_from_keypoints(keypoints, min_confidence=0.3)
        return PersonPose(keypoints, box if tight is None else tight, float(picked[:, 2].mean()), world)

    def with_regions(self, boxes: np.ndarray, scores: np.ndarray, regions: np.ndarray | None) -> np.ndarray:
        """Detector boxes and the tracker's regions (grown to whole-body boxes), duplicates merged by NMS."""
        if regions is None or len(regions) == 0:
            return boxes
        centres, sizes = (regions[:, :2] + regions[:, 2:]) / 2, (regions[:, 2:] - regions[:, :2])
        grown = np.concatenate([centres - sizes * self.settings.region_scale / 2,
                                centres + sizes * self.settings.region_scale / 2], axis=1)  # fmt: skip
        merged = np.concatenate([boxes.reshape(-1, 4), grown])
        ranks = np.concatenate([scores, np.full(len(grown), self.settings.region_score)])
        return merged[sorted(self._suppress(merged, ranks))]

    def _poses(self, image: np.ndarray, boxes: np.ndarray) -> list[PersonPose | None]:
        """BlazePose on the crop around each box: the landmark network in one batch, or MediaPipe box by box."""
        if self._landmarks is not None:
            return self._landmarks.estimate_all(image, boxes)
        return [self.estimate(image, box) for box in boxes]

    def _distinct(self, people: list[PersonPose]) -> list[PersonPose]:
        """One pose per person: two proposals on one person give two near-identical poses."""
        if len(people) < 2:
            return people
        keep = self._suppress(np.stack([p.box for p in people]), np.array([p.score for p in people]))
        return [people[i] for i in sorted(keep)]

    def second_look(self, image: np.ndarray, detected: np.ndarray, people: list[PersonPose]) -> list[PersonPose]:
        """The people found by looking again at each proposal no pose explains, with its surroundings greyed out.

        ``detected`` are the detector's own boxes; a pose found this way must not repeat a kept one.
        """
        found: list[PersonPose] = []
        if self.settings.second_look_iou <= 0:
            return found
        for box in detected:
            kept = np.stack([p.box for p in people + found]) if people or found else np.zeros((0, 4))
            if len(kept) and box_iou(box[None], kept)[0].max() >= self.settings.second_look_iou:
                continue
            (pose,) = self._poses(only_inside(image, box, self.settings.second_look_margin), self.framed(box[None]))
            if pose is None or (len(kept) and self._repeats(pose.box, kept)):
                continue
            found.append(pose)
        return found

    def _repeats(self, box: np.ndarray, kept: np.ndarray) -> bool:
        """Whether ``box`` is one of ``kept`` again, by the NMS rule (overlap or containment)."""
        return bool(
            (box_iou(box[None], kept)[0] >= self.settings.nms_iou).any()
            or (box_containment(box[None], kept)[0] >= self.settings.nms_containment).any()
        )

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0, *,
                 regions: np.ndarray | None = None) -> FramePoses:  # fmt: skip
        detected, scores = self.detect(image)
        boxes = self.with_regions(self.framed(detected), scores, regions)
        people = self._distinct([p for p in self._poses(image, boxes) if p is not None])
        return FramePoses(index, time, people + self.second_look(image, detected, people))


def only_inside(image: np.ndarray, box: np.ndarray, margin: tuple[float, float]) -> np.ndarray:
    """A copy of the frame with everything outside ``box`` (grown by ``margin`` of its size per side) mid-grey.

    Grey rather than blur: a blurred neighbour still looks like a person to the landmark network (measured:
    more identity mix-ups at the sign-post group of the street clip).
    """
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    grow_x, grow_y = (x1 - x0) * margin[0], (y1 - y0) * margin[1]
    height, width = image.shape[:2]
    left, top = max(int(np.floor(x0 - grow_x)), 0), max(int(np.floor(y0 - grow_y)), 0)
    right, bottom = min(int(np.ceil(x1 + grow_x)), width), min(int(np.ceil(y1 + grow_y)), height)
    masked = np.full_like(image, 128)
    masked[top:bottom, left:right] = image[top:bottom, left:right]
    return masked
