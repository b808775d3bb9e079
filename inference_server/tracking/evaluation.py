"""Scoring person detection and tracking against hand-made ground truth (``tests/data/ground_truth``).

Ground truth is a few annotated frames per clip, each person a box and an identity that follows them
across the annotated frames. Per frame, predicted boxes are matched one-to-one to ground-truth boxes by
Hungarian assignment on IoU (the tracker's matcher, ``scipy.optimize.linear_sum_assignment``); a match
needs IoU >= the threshold. People flagged ``hard`` (tiny or mostly hidden) are not counted as misses,
and a prediction on one is not a false positive either. Identity metrics reuse ``metrics.id_metrics``.
Pure NumPy + SciPy: no model, no video.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..poses2d.boxes import box_iou
from .metrics import id_metrics


@dataclass(frozen=True, kw_only=True)
class TruthPerson:
    id: int
    box: np.ndarray  # (4,) x0, y0, x1, y1 pixels, head to feet (visible extent when occluded)
    hard: bool = False  # under 30 px tall or mostly hidden: neither a miss nor a false positive
    occluded: bool = False


@dataclass(frozen=True, kw_only=True)
class GroundTruth:
    clip: str  # video file name
    width: int
    height: int
    frame_count: int
    method: str
    frames: dict[int, list[TruthPerson]]  # annotated frame index -> people


@dataclass(frozen=True, kw_only=True)
class Prediction:
    """One predicted person box in one frame; ``track_id`` is None for an untracked detection."""

    box: np.ndarray  # (4,)
    track_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class FrameMatch:
    frame: int
    pairs: list[tuple[int, int]]  # (truth index, prediction index), IoU >= threshold
    truth: list[TruthPerson]
    predictions: list[Prediction]


def match_frame(frame: int, truth: Sequence[TruthPerson], predictions: Sequence[Prediction], iou: float) -> FrameMatch:
    """One-to-one matching maximising total IoU; pairs below ``iou`` are dropped, not re-matched."""
    pairs: list[tuple[int, int]] = []
    if truth and predictions:
        overlap = box_iou(np.stack([t.box for t in truth]), np.stack([p.box for p in predictions]))
        rows, cols = linear_sum_assignment(-overlap)
        pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if overlap[r, c] >= iou]
    return FrameMatch(frame=frame, pairs=pairs, truth=list(truth), predictions=list(predictions))


def detection_counts(matches: Sequence[FrameMatch]) -> dict[str, float]:
    """Recall over non-hard people and precision over predictions not matched to a hard person."""
    hits = people = false_positives = 0
    for m in matches:
        people += sum(not t.hard for t in m.truth)
        hits += sum(not m.truth[t].hard for t, _ in m.pairs)
        false_positives += len(m.predictions) - len(m.pairs)
    counted = hits + false_positives
    return {
        "recall": hits / people if people else 1.0,
        "precision": hits / counted if counted else 1.0,
        "people": float(people),
        "false_positives": float(false_positives),
    }


def identity_counts(matches: Sequence[FrameMatch]) -> dict[str, float]:
    """ID switches and IDF1 (``id_metrics``), tracks per annotated person, tracks covering two people.

    Only matches to a tracked prediction count; hard people count too (a track that jumps onto a hidden
    person is still a switch).
    """
    truth: dict[int, dict[int, int]] = {}
    predicted: dict[int, dict[int, int]] = {}
    tracks_of: dict[int, set[int]] = {}
    people_of: dict[int, set[int]] = {}
    for m in matches:
        truth[m.frame] = {i: t.id for i, t in enumerate(m.truth)}
        predicted[m.frame] = {}
        for t, p in m.pairs:
            track = m.predictions[p].track_id
            if track is None:
                continue
            gt_id = m.truth[t].id
            predicted[m.frame][t] = track
            tracks_of.setdefault(gt_id, set()).add(track)
            people_of.setdefault(track, set()).add(gt_id)
    annotated = {t.id for m in matches for t in m.truth}
    ids = id_metrics(truth, predicted)
    return {
        "id_switches": ids["id_switches"],
        "idf1": ids["idf1"],
        "tracks_per_person": sum(len(tracks_of.get(i, ())) for i in annotated) / len(annotated) if annotated else 0.0,
        "two_person_tracks": float(sum(len(people) >= 2 for people in people_of.values())),
    }


def evaluate(truth: GroundTruth, predictions: Mapping[int, Sequence[Prediction]], iou: float = 0.5) -> dict[str, float]:
    """All figures for one clip at one IoU threshold; ``predictions[frame]`` may omit empty frames."""
    matches = [match_frame(f, people, predictions.get(f, ()), iou) for f, people in sorted(truth.frames.items())]
    return detection_counts(matches) | identity_counts(matches)


def _person(raw: object, where: str) -> TruthPerson:
    if not isinstance(raw, dict) or not {"id", "box"} <= raw.keys():
        raise ValueError(f"{where}: a person needs 'id' and 'box'")
    box = raw["box"]
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int | float) for v in box)):
        raise ValueError(f"{where}: 'box' must be four numbers x0, y0, x1, y1")
    if not isinstance(raw["id"], int):
        raise ValueError(f"{where}: 'id' must be an integer")
    flags = {k: raw.get(k, False) for k in ("hard", "occluded")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise ValueError(f"{where}: 'hard' and 'occluded' must be true or false")
    return TruthPerson(id=raw["id"], box=np.asarray(box, dtype=np.float64), **flags)


def _frames(raw: object, path: Path) -> dict[int, list[TruthPerson]]:
    if not isinstance(raw, list):
        raise ValueError(f"{path}: 'frames' must be a list")
    frames: dict[int, list[TruthPerson]] = {}
    for n, frame in enumerate(raw):
        if not isinstance(frame, dict) or not isinstance(frame.get("index"), int):
            raise ValueError(f"{path}: frames[{n}] needs an integer 'index'")
        if not isinstance(frame.get("people"), list):
            raise ValueError(f"{path}: frames[{n}] needs a 'people' list")
        if frame["index"] in frames:
            raise ValueError(f"{path}: frame {frame['index']} is annotated twice")
        frames[frame["index"]] = [_person(p, f"{path}: frame {frame['index']}") for p in frame["people"]]
    return frames


def load_ground_truth(path: str | Path) -> GroundTruth:
    """Read an annotation file; raises ValueError naming what is wrong with a malformed one."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from error
    needed = {"clip", "width", "height", "frame_count", "method", "frames"}
    if not isinstance(raw, dict) or not needed <= raw.keys():
        raise ValueError(f"{path}: needs keys {sorted(needed)}")
    if not all(isinstance(raw[k], int) and raw[k] > 0 for k in ("width", "height", "frame_count")):
        raise ValueError(f"{path}: 'width', 'height' and 'frame_count' must be positive integers")
    return GroundTruth(
        clip=str(raw["clip"]),
        width=raw["width"],
        height=raw["height"],
        frame_count=raw["frame_count"],
        method=str(raw["method"]),
        frames=_frames(raw["frames"], path),
    )


def consistency_problems(truth: GroundTruth) -> list[str]:
    """What is wrong with a loaded file's content (empty when nothing is): boxes, ids, frame indices."""
    problems = []
    for index, people in sorted(truth.frames.items()):
        if not 0 <= index < truth.frame_count:
            problems.append(f"frame {index} is outside the clip's {truth.frame_count} frames")
        ids = [p.id for p in people]
        if len(set(ids)) != len(ids):
            problems.append(f"frame {index}: an id is used twice")
        for p in people:
            x0, y0, x1, y1 = p.box
            if not (0 <= x0 < x1 <= truth.width and 0 <= y0 < y1 <= truth.height):
                problems.append(f"frame {index}: person {p.id}'s box {p.box.tolist()} is not inside the frame")
    return problems
