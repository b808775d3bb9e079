"""Planted feet: contact runs, smooth pin weights, analytic two-bone IK."""

import numpy as np

from crowdmocap_addon.core.legs import contact_segments, jump_frames, leg_swings, pin_schedule, true_runs, two_bone_ik

RNG = np.random.default_rng(7)


def _leg(count: int):
    hip = RNG.normal(size=(count, 3))
    knee = hip + RNG.normal(size=(count, 3)) * [0.1, 0.1, 0.1] + [0.0, 0.05, -0.45]
    ankle = knee + RNG.normal(size=(count, 3)) * [0.1, 0.1, 0.1] + [0.0, -0.05, -0.42]
    return hip, knee, ankle


def test_two_bone_ik_reaches_reachable_targets_keeping_lengths_and_bend_plane():
    hip, knee, ankle = _leg(200)
    target = ankle + RNG.normal(scale=0.08, size=ankle.shape)
    new_knee, new_ankle = two_bone_ik(hip, knee, ankle, target, np.tile([0.0, -1.0, 0.0], (200, 1)))
    upper, lower = np.linalg.norm(knee - hip, axis=1), np.linalg.norm(ankle - knee, axis=1)
    reachable = np.linalg.norm(target - hip, axis=1) < 0.999 * (upper + lower)
    assert reachable.mean() > 0.5
    np.testing.assert_allclose(new_ankle[reachable], target[reachable], atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(new_knee - hip, axis=1), upper, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(new_ankle - new_knee, axis=1), lower, atol=1e-9)
    # The knee stays on the same side of the hip -> target line, in the plane through the old knee.
    normal = np.cross(target - hip, knee - hip)
    np.testing.assert_allclose(np.sum(normal * (new_knee - hip), axis=1), 0.0, atol=1e-9)
    # Out of reach: the leg points at the target, almost straight.
    far = ~reachable
    direction = (target - hip)[far] / np.linalg.norm((target - hip)[far], axis=1, keepdims=True)
    got = (new_ankle - hip)[far] / np.linalg.norm((new_ankle - hip)[far], axis=1, keepdims=True)
    np.testing.assert_allclose(got, direction, atol=1e-9)


def test_a_straight_leg_bends_towards_the_forward_hint():
    hip = np.zeros((1, 3))
    knee = np.array([[0.0, 0.0, -0.45]])
    ankle = np.array([[0.0, 0.0, -0.9]])
    new_knee, new_ankle = two_bone_ik(hip, knee, ankle, np.array([[0.0, 0.0, -0.8]]), np.array([[0.0, -1.0, 0.0]]))
    assert new_knee[0, 1] < -0.1  # forward (-Y)
    np.testing.assert_allclose(new_ankle, [[0.0, 0.0, -0.8]], atol=1e-9)


def test_leg_swings_turn_each_segment_onto_its_new_direction():
    hip, knee, ankle = _leg(50)
    new_knee, new_ankle = two_bone_ik(hip, knee, ankle, ankle + [0.05, 0.0, 0.03], np.tile([0, -1.0, 0], (50, 1)))
    thigh, calf = leg_swings(hip, knee, ankle, new_knee, new_ankle)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", thigh, knee - hip), new_knee - hip, atol=1e-9)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", calf, ankle - knee), new_ankle - new_knee, atol=1e-9)


def test_contact_segments_are_runs_above_the_threshold():
    contact = np.array([0.9, 0.6, 0.2, 0.0, 0.7, 0.7, 0.7, 0.1, 0.51])
    assert contact_segments(contact) == [(0, 1), (4, 6), (8, 8)]
    assert contact_segments(np.zeros(5)) == []


def test_pin_schedule_anchors_at_contact_start_and_blends_smoothly():
    frames = 30
    positions = np.stack([np.linspace(0, 0.3, frames), np.zeros(frames), np.linspace(0.1, 0.2, frames)], axis=1)
    contact = np.zeros(frames)
    contact[10:16] = 1.0
    schedule = pin_schedule(positions, contact, blend=4)
    np.testing.assert_allclose(schedule.weights[10:16], 1.0)
    np.testing.assert_allclose(schedule.targets[10:16], np.broadcast_to(positions[10], (6, 3)))
    assert np.all(schedule.weights[:6] == 0) and np.all(schedule.weights[20:] == 0)
    ramp_in, ramp_out = schedule.weights[6:10], schedule.weights[16:20]
    assert np.all(np.diff(ramp_in) > 0) and np.all(np.diff(ramp_out) < 0)
    assert ramp_in.min() > 0.0 and ramp_in.max() < 1.0
    # No jumps: the weight changes by at most smoothstep's steepest slope (1.5) over the ramp's frames.
    assert np.abs(np.diff(schedule.weights)).max() <= 1.5 / (4 + 1) + 1e-12


def test_close_contacts_never_pin_harder_than_one():
    positions = RNG.normal(size=(20, 3))
    contact = np.zeros(20)
    contact[[3, 4, 7, 8]] = 1.0
    schedule = pin_schedule(positions, contact, blend=4)
    assert schedule.weights.max() == 1.0
    np.testing.assert_allclose(schedule.targets[[7, 8]], np.broadcast_to(positions[7], (2, 3)))


def test_true_runs_find_every_run_including_both_ends():
    assert true_runs(np.array([True, True, False, True, False, False, True])) == [(0, 1), (3, 3), (6, 6)]
    assert true_runs(np.zeros(4, dtype=bool)) == []
    assert true_runs(np.ones(3, dtype=bool)) == [(0, 2)]


def test_a_mean_anchor_holds_the_ankle_at_its_mean_over_the_contact():
    positions = RNG.normal(size=(20, 3))
    contact = np.zeros(20)
    contact[5:11] = 1.0
    schedule = pin_schedule(positions, contact, blend=2, anchor="mean")
    np.testing.assert_allclose(schedule.targets[5:11], np.broadcast_to(positions[5:11].mean(axis=0), (6, 3)))
    np.testing.assert_allclose(schedule.targets[:3], positions[:3])  # free before the ramp


def test_a_jump_is_a_step_far_beyond_the_persons_own_and_cuts_a_pin_there():
    walk = np.cumsum(np.full((20, 3), [0.05, 0.0, 0.0]), axis=0)  # 5 cm a frame
    walk[12:] += [0.4, 0.0, 0.0]
    assert np.flatnonzero(jump_frames(walk)).tolist() == [12]
    standing = np.random.default_rng(1).normal(scale=0.004, size=(30, 3))  # jitter: some steps over 5x the median
    assert not jump_frames(standing).any()  # but all under the 5 cm floor
    ankle = np.zeros((20, 3))
    ankle[12:] = [0.4, 0.0, 0.0]
    contact = np.ones(20)
    held = pin_schedule(ankle, contact, blend=0)
    cut = pin_schedule(ankle, contact, blend=0, cuts=jump_frames(walk))
    assert np.allclose(held.targets[12:], 0.0)  # held at the old place across the jump
    assert np.allclose(cut.targets[:12], 0.0) and np.allclose(cut.targets[12:], [0.4, 0.0, 0.0])  # pinned anew
    assert (cut.weights == 1).all()
