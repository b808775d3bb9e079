"""Tracking synthetic crowds with known identities: crossing, occlusion, entering and leaving."""

import numpy as np
import pytest

from inference_server.poses2d.boxes import box_from_keypoints
from inference_server.poses2d.types import FramePoses, PersonPose
from inference_server.tracking.metrics import id_metrics
from inference_server.tracking.similarity import keypoint_similarity
from inference_server.tracking.tracker import NOT_OBSERVED, Tracker, TrackerSettings

# A standing person, 120 px tall, keypoints relative to the pelvis (COCO order).
TEMPLATE = np.array([
    [0, -100], [-4, -104], [4, -104], [-8, -100], [8, -100], [-18, -75], [18, -75], [-24, -40], [24, -40],
    [-26, -8], [26, -8], [-10, 0], [10, 0], [-11, 45], [11, 45], [-12, 90], [12, 90],
], dtype=float)  # fmt: skip


def _person(centre, rng, noise=1.5, score=0.9):
    xy = TEMPLATE + centre + rng.normal(scale=noise, size=TEMPLATE.shape)
    keypoints = np.concatenate([xy, np.full((17, 1), 0.9)], axis=1)
    return PersonPose(keypoints=keypoints, box=box_from_keypoints(keypoints), score=score)


def _crowd(frames=60, seed=0, stride=1, hide=None):
    """Five walkers; returns the frames and the ground truth {frame: {detection index: identity}}."""
    rng = np.random.default_rng(seed)
    walkers = {
        1: (np.array([100.0, 300.0]), np.array([6.0, 0.0]), 0, frames),  # crosses 2
        2: (np.array([460.0, 305.0]), np.array([-6.0, 0.0]), 0, frames),
        3: (np.array([200.0, 150.0]), np.array([3.0, 0.5]), 0, frames),  # occluded 25..34 (see hide)
        4: (np.array([600.0, 450.0]), np.array([-4.0, 0.0]), 20, frames),  # enters at 20
        5: (np.array([50.0, 500.0]), np.array([5.0, -1.0]), 0, 40),  # leaves at 40
    }
    hide = hide or {3: range(25, 35)}
    sequence, truth = [], {}
    for frame in range(0, frames, stride):
        people, ids = [], {}
        for identity, (start, velocity, first, last) in walkers.items():
            if first <= frame < last and frame not in hide.get(identity, ()):
                ids[len(people)] = identity
                people.append(_person(start + velocity * frame, rng))
        order = rng.permutation(len(people))  # detectors give no stable order
        sequence.append(FramePoses(frame, frame / 30, [people[i] for i in order]))
        truth[frame] = {new: ids[int(old)] for new, old in enumerate(order)}
    return sequence, truth


def _run(sequence, settings=None):
    tracker = Tracker(settings or TrackerSettings(min_length=5))
    assigned = {poses.index: tracker.update(poses) for poses in sequence}
    return tracker.finish(), assigned


def test_every_identity_survives_crossing_occlusion_entering_and_leaving():
    sequence, truth = _crowd()
    tracks, assigned = _run(sequence)
    metrics = id_metrics(truth, assigned)
    assert metrics == {"idf1": 1.0, "id_switches": 0.0}
    assert len(tracks) == 5
    by_first = {int(t.frames[0]): t for t in tracks}
    assert by_first[20].frames[-1] == 59  # the one who entered at 20
    leaver = next(t for t in tracks if t.frames[-1] == 39)
    assert leaver.frames[0] == 0


def test_occlusion_gap_is_filled_and_flagged():
    sequence, truth = _crowd()
    tracks, assigned = _run(sequence)
    occluded_id = assigned[0][next(i for i, g in truth[0].items() if g == 3)]
    track = next(t for t in tracks if t.id == occluded_id)
    assert list(track.frames) == list(range(60))
    hidden = np.isin(track.frames, range(25, 35))
    assert not track.observed[hidden].any() and track.observed[~hidden].all()
    assert (track.keypoints[hidden, :, 2] == 0).all() and (track.scores[hidden] == 0).all()
    # interpolated positions lie on the straight walk: pelvis x = 200 + 3 * frame (+-noise)
    hips = track.keypoints[hidden][:, 11:13, 0].mean(axis=1)
    np.testing.assert_allclose(hips, 200 + 3 * np.arange(25, 35), atol=3)
    assert 0.85 < track.confidence < 0.95


def test_long_gaps_split_and_very_long_ones_end_the_track():
    sequence, _ = _crowd(hide={3: range(20, 40)})  # 20 frames unseen: > max_gap 15, < max_lost 30
    tracks, _ = _run(sequence)
    segments = sorted((t for t in tracks if abs(t.keypoints[0, 11, 1] - 150 - 0.5 * t.frames[0]) < 5),
                      key=lambda t: t.frames[0])  # fmt: skip
    assert [(int(s.frames[0]), int(s.frames[-1])) for s in segments] == [(0, 19), (40, 59)]
    assert segments[0].id != segments[1].id
    sequence, truth = _crowd(hide={3: range(10, 50)})  # 40 frames unseen: the track ended, a new one starts
    tracks, assigned = _run(sequence)
    assert id_metrics(truth, assigned)["id_switches"] == 1.0


def test_tracks_know_which_detection_they_took_in_each_frame():
    sequence, truth = _crowd()  # detections shuffled in every frame; identity 3 unseen in frames 25..34
    tracks, assigned = _run(sequence)
    frames = {poses.index: poses for poses in sequence}
    for track in tracks:
        seen = np.flatnonzero(track.observed)
        taken = [(int(track.frames[t]), int(track.detections[t])) for t in seen]
        assert (track.detections[~track.observed] == NOT_OBSERVED).all()
        assert all(assigned[frame][detection] == track.id for frame, detection in taken)
        assert len({truth[frame][detection] for frame, detection in taken}) == 1  # always the same person
        for t, (frame, detection) in zip(seen, taken, strict=True):
            np.testing.assert_array_equal(track.keypoints[t], frames[frame].people[detection].keypoints)
    assert any(len(set(t.detections[t.observed])) > 1 for t in tracks)  # the shuffling did move people
    occluded = next(t for t in tracks if truth[int(t.frames[0])][int(t.detections[0])] == 3)
    hidden = np.isin(occluded.frames, range(25, 35))
    assert hidden.sum() == 10 and (occluded.detections[hidden] == NOT_OBSERVED).all()
    assert (occluded.detections[~hidden] >= 0).all()


def test_short_tracks_are_dropped_and_stride_keeps_real_frame_numbers():
    sequence, _ = _crowd(stride=2)
    tracks, _ = _run(sequence, TrackerSettings(min_length=25))  # the leaver has 20 frames at stride 2
    assert len(tracks) == 3  # 1, 2, 3 (30 frames each); 4 (20 frames) and 5 (20 frames) dropped
    assert all((np.diff(t.frames) == 2).all() for t in tracks)


def test_keypoint_similarity():  # box IoU: tests/inference_server/poses2d/test_boxes.py
    rng = np.random.default_rng(0)
    person = _person(np.array([100.0, 100.0]), rng, noise=0)
    other = _person(np.array([300.0, 100.0]), rng, noise=0)
    oks = keypoint_similarity(person.keypoints[None], np.stack([person.keypoints, other.keypoints]), person.box[None])
    assert oks[0, 0] == pytest.approx(1.0) and oks[0, 1] < 1e-6
