"""Detection and identity scores on hand-made cases with known answers, and the committed ground truth."""

import json
from pathlib import Path

import numpy as np
import pytest

from inference_server.tracking.evaluation import (
    GroundTruth,
    Prediction,
    TruthPerson,
    consistency_problems,
    evaluate,
    load_ground_truth,
)

GROUND_TRUTH = Path(__file__).resolve().parents[2] / "data" / "ground_truth"
CLIPS = {"vtest_first10s.json": 100, "vtest_25s_to_50s.json": 250}


def person(id_: int, x: float, hard: bool = False) -> TruthPerson:
    return TruthPerson(id=id_, box=np.array([x, 0.0, x + 10, 40.0]), hard=hard)


def guess(x: float, track: int | None = None) -> Prediction:
    return Prediction(box=np.array([x, 0.0, x + 10, 40.0]), track_id=track)


def truth(frames: dict[int, list[TruthPerson]]) -> GroundTruth:
    return GroundTruth(clip="c.avi", width=100, height=50, frame_count=10, method="test", frames=frames)


def test_a_miss_and_a_false_positive():
    gt = truth({0: [person(1, 0), person(2, 30)]})
    scores = evaluate(gt, {0: [guess(1), guess(70)]})  # person 2 missed; the box at 70 covers nobody
    assert scores["recall"] == 0.5
    assert scores["precision"] == 0.5


def test_a_hard_person_is_neither_a_miss_nor_a_false_positive():
    gt = truth({0: [person(1, 0), person(2, 30, hard=True), person(3, 60, hard=True)]})
    scores = evaluate(gt, {0: [guess(0), guess(30)]})  # hard person 3 missed, hard person 2 found
    assert scores["recall"] == 1.0
    assert scores["precision"] == 1.0
    assert scores["people"] == 1.0


def test_the_iou_threshold_decides_a_match():
    gt = truth({0: [person(1, 0)]})
    shifted = {0: [guess(4)]}  # IoU 6/14 = 0.43
    assert evaluate(gt, shifted, iou=0.5)["recall"] == 0.0
    assert evaluate(gt, shifted, iou=0.3)["recall"] == 1.0


def test_matching_is_one_to_one():
    gt = truth({0: [person(1, 0)]})
    scores = evaluate(gt, {0: [guess(0), guess(1)]})  # a duplicate box is a false positive
    assert scores["recall"] == 1.0
    assert scores["precision"] == 0.5


def test_an_id_switch_counts_once_and_gives_a_person_two_tracks():
    gt = truth({0: [person(1, 0)], 5: [person(1, 0)], 9: [person(1, 0)]})
    scores = evaluate(gt, {0: [guess(0, 7)], 5: [guess(0, 8)], 9: [guess(0, 8)]})
    assert scores["id_switches"] == 1.0
    assert scores["tracks_per_person"] == 2.0
    assert scores["two_person_tracks"] == 0.0


def test_a_switch_is_seen_across_a_frame_where_the_person_was_missed():
    gt = truth({0: [person(1, 0)], 5: [person(1, 0)], 9: [person(1, 0)]})
    scores = evaluate(gt, {0: [guess(0, 7)], 9: [guess(0, 8)]})
    assert scores["id_switches"] == 1.0


def test_a_track_that_moves_from_one_person_to_another_covers_two_people():
    gt = truth({0: [person(1, 0), person(2, 50)], 5: [person(1, 0), person(2, 50)]})
    scores = evaluate(gt, {0: [guess(0, 7), guess(50, 8)], 5: [guess(0, 9), guess(50, 7)]})
    assert scores["two_person_tracks"] == 1.0
    assert scores["id_switches"] == 2.0
    assert scores["tracks_per_person"] == 2.0


def test_perfect_tracking_scores_perfectly():
    gt = truth({0: [person(1, 0), person(2, 50)], 5: [person(1, 10), person(2, 40)]})
    scores = evaluate(gt, {0: [guess(0, 3), guess(50, 4)], 5: [guess(10, 3), guess(40, 4)]})
    assert scores == {
        "recall": 1.0,
        "precision": 1.0,
        "people": 4.0,
        "false_positives": 0.0,
        "id_switches": 0.0,
        "idf1": 1.0,
        "tracks_per_person": 1.0,
        "two_person_tracks": 0.0,
    }


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_committed_ground_truth_loads_and_is_consistent(name):
    gt = load_ground_truth(GROUND_TRUTH / name)
    assert gt.clip == name.replace(".json", ".avi")
    assert (gt.width, gt.height, gt.frame_count) == (768, 576, CLIPS[name])
    assert len(gt.frames) >= 10
    assert consistency_problems(gt) == []
    assert all(gt.frames.values())  # every annotated frame has people in it


def test_consistency_problems_are_found():
    bad = truth({12: [person(1, 95), person(1, 0)]})  # frame outside the clip, box past the edge, id twice
    assert len(consistency_problems(bad)) == 3


def valid_file() -> dict:
    return {
        "clip": "c.avi",
        "width": 100,
        "height": 50,
        "frame_count": 10,
        "method": "test",
        "frames": [{"index": 0, "people": [{"id": 1, "box": [0, 0, 10, 40], "hard": False, "occluded": False}]}],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("frames"), "needs keys"),
        (lambda d: d.update(width=0), "positive integers"),
        (lambda d: d["frames"][0].pop("index"), "integer 'index'"),
        (lambda d: d["frames"][0]["people"][0].update(box=[0, 0, 10]), "four numbers"),
        (lambda d: d["frames"][0]["people"][0].update(id="a"), "'id' must be an integer"),
        (lambda d: d["frames"][0]["people"][0].update(hard="yes"), "true or false"),
        (lambda d: d["frames"].append(d["frames"][0]), "annotated twice"),
    ],
)
def test_a_malformed_file_raises_a_clear_error(tmp_path, change, message):
    data = valid_file()
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    assert load_ground_truth(path).frames[0][0].id == 1
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message):
        load_ground_truth(path)


def test_a_file_that_is_not_json_raises_value_error(tmp_path):
    path = tmp_path / "gt.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        load_ground_truth(path)
