"""Re-linking track fragments: one person hidden for a while becomes one track; two people never become one."""

from __future__ import annotations

import cv2
import numpy as np

from inference_server.tracking.appearance import DESCRIPTOR_SIZE, REGION_SIZE, describe, distance
from inference_server.tracking.relink import assign_links, relink
from inference_server.tracking.tracker import NOT_OBSERVED, Track

FPS = 10.0
HEIGHT = 100.0  # pixels: a walker about 15 m from a typical camera
RNG = np.random.default_rng(3)


def _looks(torso_bin: int, legs_bin: int) -> np.ndarray:
    """A descriptor whose torso and legs are mostly one colour bin each, with a little noise."""
    out = np.zeros((2, REGION_SIZE))
    out[0, torso_bin], out[1, legs_bin] = 0.8, 0.8
    out += RNG.uniform(0.0, 0.02, size=out.shape)
    return (out / out.sum(axis=1, keepdims=True)).reshape(-1).astype(np.float32)


def _walker(track_id: int, frames: np.ndarray, start: tuple[float, float], velocity: tuple[float, float],
            looks: np.ndarray) -> Track:  # fmt: skip
    """A person walking straight at ``velocity`` px/s from ``start`` (box centre at frame 0), seen every frame."""
    t = frames / FPS
    centre = np.asarray(start) + np.outer(t, velocity)
    boxes = np.concatenate([centre - [HEIGHT / 4, HEIGHT / 2], centre + [HEIGHT / 4, HEIGHT / 2]], axis=1)
    keypoints = np.zeros((len(frames), 17, 3))
    keypoints[:, :, :2] = centre[:, None, :] + RNG.normal(scale=HEIGHT / 6, size=(len(frames), 17, 2))
    keypoints[:, :, 2] = 0.9
    noise = RNG.normal(scale=0.005, size=(len(frames), DESCRIPTOR_SIZE))
    return Track(id=track_id, frames=frames, keypoints=keypoints, boxes=boxes, observed=np.ones(len(frames), bool),
                 scores=np.full(len(frames), 0.9), world_landmarks=None, detections=np.zeros(len(frames), int),
                 appearance=np.clip(looks + noise, 0, None).astype(np.float32))  # fmt: skip


ALL_FRAMES = np.arange(200)
RED_BLUE, BLUE_RED = _looks(0, 20), _looks(20, 0)


def test_a_person_hidden_for_two_seconds_is_one_track_again():
    before = _walker(1, np.arange(0, 30), (100, 300), (40, 0), RED_BLUE)
    after = _walker(2, np.arange(50, 90), (100, 300), (40, 0), RED_BLUE)  # same path, 20 frames (2 s) later
    (joined,) = relink([after, before], ALL_FRAMES, FPS)
    assert joined.id == 1
    np.testing.assert_array_equal(joined.frames, np.arange(0, 90))
    np.testing.assert_array_equal(joined.observed, np.isin(np.arange(90), np.r_[0:30, 50:90]))
    assert (joined.keypoints[30:50, :, 2] == 0).all() and (joined.scores[30:50] == 0).all()
    assert (joined.detections[30:50] == NOT_OBSERVED).all() and np.isnan(joined.appearance[30:50]).all()
    centres = (joined.boxes[:, :2] + joined.boxes[:, 2:]) / 2  # the gap is bridged in a straight line ...
    np.testing.assert_allclose(centres[40], [100 + 40 * 4.0, 300], atol=1e-9)  # ... where they walked


def test_two_similar_people_crossing_are_never_merged():
    """Both wear the same colours and cross; one of them is split by the crossing. Only that one re-joins."""
    a_first = _walker(1, np.arange(0, 20), (100, 300), (40, 0), RED_BLUE)
    a_second = _walker(3, np.arange(24, 60), (100, 300), (40, 0), RED_BLUE)
    b = _walker(2, np.arange(0, 60), (260, 300), (-40, 0), RED_BLUE)  # seen throughout, the other way
    tracks = relink([a_first, a_second, b], ALL_FRAMES, FPS)
    assert sorted(len(t.frames) for t in tracks) == [60, 60]
    walking_right = next(t for t in tracks if t.id == 1)
    assert walking_right.observed.sum() == 56 and next(t for t in tracks if t.id == 2).observed.all()


def test_someone_else_appearing_where_a_person_vanished_is_not_them():
    before = _walker(1, np.arange(0, 30), (100, 300), (40, 0), RED_BLUE)
    other = _walker(2, np.arange(45, 90), (100, 300), (40, 0), BLUE_RED)  # the right place and time, other clothes
    assert len(relink([before, other], ALL_FRAMES, FPS)) == 2


def test_a_look_alike_too_far_away_or_too_late_is_not_them():
    before = _walker(1, np.arange(0, 30), (100, 300), (40, 0), RED_BLUE)
    far = _walker(2, np.arange(40, 80), (1300, 300), (40, 0), RED_BLUE)  # 10 body heights off in 1 s
    late = _walker(3, np.arange(70, 110), (100, 300), (40, 0), RED_BLUE)  # on the path, but 4 s later
    assert len(relink([before, far], ALL_FRAMES, FPS)) == 2
    assert len(relink([before, late], ALL_FRAMES, FPS)) == 2


def test_three_fragments_of_one_walker_chain_into_one():
    parts = [_walker(i + 1, np.arange(s, e), (100, 300), (40, 0), RED_BLUE) for i, (s, e) in
             enumerate([(0, 20), (35, 60), (75, 100)])]  # fmt: skip
    (joined,) = relink(parts, ALL_FRAMES, FPS)
    assert joined.id == 1 and joined.observed.sum() == 70 and len(joined.frames) == 100


def _figure(image: np.ndarray, torso_rgb, legs_rgb, x: int) -> np.ndarray:
    """Draw a person (torso and legs as filled shapes) at column ``x``; return their COCO keypoints."""
    keypoints = np.zeros((17, 3))
    points = {5: (x - 10, 100), 6: (x + 10, 100), 11: (x - 8, 140), 12: (x + 8, 140),
              13: (x - 9, 170), 14: (x + 9, 170), 15: (x - 10, 200), 16: (x + 10, 200)}  # fmt: skip
    for index, (px, py) in points.items():
        keypoints[index] = (px, py, 0.9)
    cv2.fillConvexPoly(image, np.array([points[5], points[6], points[12], points[11]]), torso_rgb)
    cv2.fillConvexPoly(image, np.array([points[11], points[12], points[14], points[16], points[15], points[13]]),
                       legs_rgb)  # fmt: skip
    return keypoints


def test_the_descriptor_tells_clothes_apart_and_finds_the_same_person_again():
    image = np.full((240, 320, 3), 128, np.uint8)  # a grey street
    red_top = _figure(image, (200, 30, 30), (30, 30, 200), 60)
    blue_top = _figure(image, (30, 30, 200), (200, 30, 30), 160)
    same_again = _figure(image, (190, 40, 35), (35, 35, 190), 260)  # the first person's clothes, other light
    a, b, c = (describe(image, k) for k in (red_top, blue_top, same_again))
    assert distance(a, c) < 0.2 and distance(a, b) > 0.6
    unseen = red_top.copy()
    unseen[[11, 12], 2] = 0.0  # both hips hidden: not enough to describe
    assert describe(image, unseen) is None


def test_a_hand_over_one_frame_later_survives_the_boxes_jitter():
    """The tracker restarting someone on the next frame, their box a third of a body off (partial occlusion)."""
    before = _walker(1, np.arange(0, 30), (100, 300), (40, 0), RED_BLUE)
    after = _walker(2, np.arange(30, 60), (100, 300 + HEIGHT / 3), (40, 0), RED_BLUE)
    (joined,) = relink([before, after], ALL_FRAMES, FPS)
    assert joined.observed.all() and len(joined.frames) == 60


def test_a_person_who_stops_behind_a_post_is_linked_where_they_stopped():
    """Walking at a body height a second, hidden for 2 s, seen again standing where they went in."""
    before = _walker(1, np.arange(0, 30), (100, 300), (HEIGHT, 0), RED_BLUE)
    stopped = _walker(2, np.arange(50, 90), (100 + 2.9 * HEIGHT, 300), (0, 0), RED_BLUE)  # 2 body heights short
    (joined,) = relink([before, stopped], ALL_FRAMES, FPS)
    assert joined.id == 1 and joined.observed.sum() == 70


def test_a_link_is_not_taken_to_make_room_for_another():
    """End 0 fits start 0 well; end 1 only fits start 0, badly; end 0 also fits start 1, so-so.

    Taking the most links (end 1 -> start 0 and end 0 -> start 1) would put two plausible links in place
    of the one good one; the links earning the most are the good one alone.
    """
    cost = np.array([[0.1, 0.5], [0.65, np.inf]])
    assert assign_links(cost, reward=0.7) == {0: 0}
    assert assign_links(cost, reward=2.0) == {0: 1, 1: 0}  # a reward this high makes any link worth it
    assert assign_links(np.full((2, 2), np.inf), reward=0.7) == {}
    assert assign_links(np.array([[0.9]]), reward=0.7) == {}  # gated in, but costlier than it is worth
