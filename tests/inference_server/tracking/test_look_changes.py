"""Cutting a track where the tracker slid from one person onto another, and only there."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from inference_server.tracking.appearance import distance, mean_descriptor
from inference_server.tracking.look_changes import look_change, look_changes, split_at_look_changes
from inference_server.tracking.relink import relink
from tests.inference_server.tracking.test_relink import ALL_FRAMES, BLUE_RED, FPS, HEIGHT, RED_BLUE, _walker


def _dressed(track, looks_by_frame: dict[range, np.ndarray]):
    """The track with its descriptors replaced, frame range by frame range (a little noise each frame)."""
    appearance = track.appearance.copy()
    rng = np.random.default_rng(int(track.id))
    for frames, looks in looks_by_frame.items():
        rows = np.isin(track.frames, list(frames))
        appearance[rows] = np.clip(looks + rng.normal(scale=0.005, size=(rows.sum(), looks.size)), 0, None)
    return replace(track, appearance=appearance.astype(np.float32))


def test_a_track_that_slides_onto_someone_else_is_cut_where_it_did():
    slid = _dressed(_walker(4, np.arange(0, 40), (100, 300), (40, 0), RED_BLUE), {range(20, 40): BLUE_RED})
    other = _walker(9, np.arange(0, 40), (600, 300), (40, 0), BLUE_RED)
    first, second, untouched = split_at_look_changes([slid, other], FPS)
    assert (first.id, second.id, untouched.id) == (4, 10, 9)  # the later piece takes the next free id
    np.testing.assert_array_equal(first.frames, np.arange(0, 20))
    np.testing.assert_array_equal(second.frames, np.arange(20, 40))
    assert untouched is other  # nothing to cut: the same track
    assert distance(mean_descriptor(first.appearance), RED_BLUE) < 0.1
    assert distance(mean_descriptor(second.appearance), BLUE_RED) < 0.1


def test_someone_crossing_in_front_for_a_moment_does_not_cut():
    """Three frames (0.3 s) of a passer-by's colours in the middle of one walker's track."""
    crossed = _dressed(_walker(1, np.arange(0, 40), (100, 300), (40, 0), RED_BLUE), {range(18, 21): BLUE_RED})
    assert split_at_look_changes([crossed], FPS) == [crossed]
    descriptors = crossed.appearance.astype(np.float64)
    assert look_change(descriptors, 18, 8) < 0.3  # the median ignores the three frames (a cut needs 0.45)


def test_a_track_too_short_to_judge_or_never_described_is_kept():
    short = _dressed(_walker(1, np.arange(0, 12), (100, 300), (40, 0), RED_BLUE), {range(6, 12): BLUE_RED})
    undescribed = replace(_walker(2, np.arange(0, 40), (100, 300), (40, 0), RED_BLUE), appearance=None)
    assert split_at_look_changes([short, undescribed], FPS) == [short, undescribed]


def test_a_cut_track_rejoins_the_right_people():
    """The street clip's case: A walks up to B, who stands hidden behind A; the tracker loses A for a moment,
    picks A up again, and when A steps behind a sign it slides onto B standing there. Cut at the change,
    each piece re-links to its own person: two people, never one track on both."""
    to_b = 200 / 3.5  # A reaches B's spot (x 300) at frame 35
    a_early = _walker(1, np.arange(0, 20), (100, 300), (to_b, 0), RED_BLUE)
    b_early = _walker(2, np.arange(0, 15), (300, 300), (0, 0), BLUE_RED)
    slid = _walker(3, np.arange(22, 50), (100, 300), (to_b, 0), RED_BLUE)
    slid_boxes = slid.boxes.copy()
    on_b = slid.frames >= 35
    centre_b = np.array([300.0, 300.0])
    slid_boxes[on_b] = np.concatenate([centre_b - [HEIGHT / 4, HEIGHT / 2], centre_b + [HEIGHT / 4, HEIGHT / 2]])
    slid = _dressed(replace(slid, boxes=slid_boxes), {range(35, 50): BLUE_RED})
    people = relink(split_at_look_changes([a_early, b_early, slid], FPS), ALL_FRAMES, FPS)
    assert sorted(t.id for t in people) == [1, 2]
    for person in people:
        own, other = (RED_BLUE, BLUE_RED) if person.id == 1 else (BLUE_RED, RED_BLUE)
        worn = [distance(d, own) < distance(d, other) for d in person.appearance[person.observed]]
        assert all(worn), f"person {person.id} wears the other's clothes on {worn.count(False)} frames"
    a, b = sorted(people, key=lambda t: t.id)
    assert a.frames[-1] == 34 and b.frames[0] == 0 and b.frames[-1] == 49


def test_the_windowed_changes_are_each_sides_median_distance_to_the_other_sides_mean():
    """The vectorised profile against its definition, frame by frame, in chunks smaller than the track."""
    rng = np.random.default_rng(7)
    descriptors = rng.dirichlet(np.ones(RED_BLUE.size // 2), size=(30, 2)).reshape(30, -1)
    window = 4
    expected = []
    for at in range(window, 30 - window + 1):
        before, after = descriptors[at - window : at], descriptors[at : at + window]
        forward = np.median([distance(d, before.mean(axis=0)) for d in after])
        backward = np.median([distance(d, after.mean(axis=0)) for d in before])
        expected.append(min(forward, backward))
    np.testing.assert_allclose(look_changes(descriptors, window, chunk=5), expected, atol=1e-12)
    assert look_change(descriptors, 10, window) == pytest.approx(expected[10 - window])
