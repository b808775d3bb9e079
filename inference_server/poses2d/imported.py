"""Bring your own 2D poses: COCO results JSON, OpenPose JSON folders, and the 3DCrowdNet demo format.

Every importer returns frames of COCO-17 people (the tracker's input), sorted by frame index:

- COCO results (``[{"image_id", "keypoints": [x, y, v] * 17, "score"}, ...]``): ``image_id`` is the frame
  index (0-based) unless ``first_image_id`` says otherwise.
- OpenPose (one ``*_keypoints.json`` per frame, ``{"people": [{"pose_keypoints_2d": [...]}]}``), BODY_25 or
  COCO-18 detected from the length: the frame index is the last number in the file name.
- 3DCrowdNet demo (``{image_name: [[[x, y, score] * 17], ...]}``): frames in natural order of the names.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .boxes import box_from_keypoints
from .types import NUM_KEYPOINTS, FramePoses, PersonPose

# OpenPose index of each COCO-17 keypoint (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).
OPENPOSE_TO_COCO = {
    18: [0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10],  # COCO-18
    25: [0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11],  # BODY_25
}


class PoseImportError(ValueError):
    """A keypoint file that cannot be imported; the message names the file and the entry."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoseImportError(f"{path}: not a readable JSON file ({exc})") from exc


def _person(values: Any, where: str, score: float | None = None) -> PersonPose | None:
    try:
        keypoints = np.asarray(values, dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
    except (TypeError, ValueError) as exc:
        raise PoseImportError(f"{where}: expected {NUM_KEYPOINTS} keypoints of (x, y, score)") from exc
    if not np.all(np.isfinite(keypoints)):
        raise PoseImportError(f"{where}: keypoints hold NaN or infinite values")
    keypoints[:, 2] = np.clip(keypoints[:, 2], 0.0, 1.0)
    box = box_from_keypoints(keypoints, min_confidence=0.0)
    if box is None or not (keypoints[:, 2] > 0).any():
        return None  # nobody: every keypoint has zero confidence
    return PersonPose(keypoints, box, float(keypoints[:, 2].mean() if score is None else score))


def _frames(people_by_frame: dict[int, list[PersonPose]], fps: float) -> list[FramePoses]:
    return [FramePoses(index, index / fps, people) for index, people in sorted(people_by_frame.items())]


def import_coco_results(path: str | Path, *, fps: float = 30.0, first_image_id: int = 0) -> list[FramePoses]:
    data = _read_json(Path(path))
    if not isinstance(data, list):
        raise PoseImportError(f"{path}: a COCO results file is a JSON list of detections")
    frames: dict[int, list[PersonPose]] = defaultdict(list)
    for number, entry in enumerate(data):
        where = f"{path}: detection {number}"
        if not isinstance(entry, dict) or "image_id" not in entry or "keypoints" not in entry:
            raise PoseImportError(f"{where}: needs 'image_id' and 'keypoints'")
        score = entry.get("score")
        person = _person(entry["keypoints"], where, None if score is None else float(np.clip(score, 0, 1)))
        if person is not None:
            frames[int(entry["image_id"]) - first_image_id].append(person)
    return _frames(frames, fps)


def import_openpose_folder(folder: str | Path, *, fps: float = 30.0) -> list[FramePoses]:
    files = sorted(Path(folder).glob("*_keypoints.json"))
    if not files:
        raise PoseImportError(f"{folder}: no OpenPose *_keypoints.json files")
    frames: dict[int, list[PersonPose]] = {}
    for path in files:
        numbers = re.findall(r"\d+", path.stem)
        if not numbers:
            raise PoseImportError(f"{path}: no frame number in the file name")
        data = _read_json(path)
        people = data.get("people") if isinstance(data, dict) else None
        if not isinstance(people, list):
            raise PoseImportError(f"{path}: no 'people' list")
        found = []
        for number, entry in enumerate(people):
            flat = np.asarray(entry.get("pose_keypoints_2d", []), dtype=np.float64) if isinstance(entry, dict) else None
            if flat is None or flat.size // 3 not in OPENPOSE_TO_COCO or flat.size % 3:
                raise PoseImportError(f"{path}: person {number}: pose_keypoints_2d must hold 18 or 25 (x, y, c)")
            person = _person(flat.reshape(-1, 3)[OPENPOSE_TO_COCO[flat.size // 3]], f"{path}: person {number}")
            if person is not None:
                found.append(person)
        frames[int(numbers[-1])] = found
    return _frames(frames, fps)


def _natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def import_crowdnet_demo(path: str | Path, *, fps: float = 30.0) -> list[FramePoses]:
    data = _read_json(Path(path))
    if not isinstance(data, dict):
        raise PoseImportError(f"{path}: the 3DCrowdNet demo format maps image names to lists of people")
    frames: dict[int, list[PersonPose]] = {}
    for index, name in enumerate(sorted(data, key=_natural_key)):
        people = data[name]
        if not isinstance(people, list):
            raise PoseImportError(f"{path}: entry {name!r} must be a list of people")
        poses = [_person(_first_three(p), f"{path}: {name} person {n}") for n, p in enumerate(people)]
        frames[index] = [p for p in poses if p is not None]
    return _frames(frames, fps)


def _first_three(person: Any) -> Any:
    """The demo reads only x, y, score of each [x, y, score, ...] row; other shapes go to validation as-is."""
    if isinstance(person, list) and all(isinstance(row, list) and len(row) >= 3 for row in person):
        return [row[:3] for row in person]
    return person
