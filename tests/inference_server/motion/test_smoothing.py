"""Smoothing: no lag, rotation-correct across 180 degrees, confidence-weighted, less jitter."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.geometry import sign_continuous
from inference_server.motion.smoothing import gaussian_filter_weighted, jitter, smooth_motion
from tests.helpers.synthetic_smpl import REST_JOINTS

FPS = 30.0


def _walk(frames=120, seed=0):
    """A plausible walking-like motion: sinusoidal limbs, a turning root, a forward path."""
    t = np.arange(frames) / FPS
    pose = np.zeros((frames, 23, 3))
    pose[:, 0, 0] = 0.5 * np.sin(2 * np.pi * t)  # left hip swing
    pose[:, 1, 0] = -0.5 * np.sin(2 * np.pi * t)
    pose[:, 3, 0] = 0.6 * np.clip(np.sin(2 * np.pi * t), 0, None)  # knees
    pose[:, 15, 2] = 0.3 * np.sin(2 * np.pi * t)  # shoulder
    orient = np.stack([np.full(frames, np.pi), 0.3 * t, np.zeros(frames)], axis=1)
    transl = np.stack([0.8 * t, np.zeros(frames), 8.0 + 0.2 * t], axis=1)
    return orient, pose, transl


def _noisy(orient, pose, transl, seed=1, rot_noise=0.05, xy_noise=0.01, z_noise=0.15):
    rng = np.random.default_rng(seed)
    noisy_orient = Rotation.from_rotvec(rng.normal(scale=rot_noise, size=orient.shape)) * Rotation.from_rotvec(orient)
    noisy_pose = (Rotation.from_rotvec(rng.normal(scale=rot_noise, size=(pose.size // 3, 3)))
                  * Rotation.from_rotvec(pose.reshape(-1, 3))).as_rotvec().reshape(pose.shape)  # fmt: skip
    noise = rng.normal(size=transl.shape) * [xy_noise, xy_noise, z_noise]
    return noisy_orient.as_rotvec(), noisy_pose, transl + noise


def _joints(orient, pose, transl):
    return forward_kinematics(REST_JOINTS, orient, pose, transl).joints


def test_strength_zero_is_the_identity():
    orient, pose, transl = _walk()
    out = smooth_motion(orient, pose, transl, np.ones(len(orient)), fps=FPS, strength=0)
    np.testing.assert_array_equal(out.body_pose, pose)


def test_a_sine_is_not_delayed_and_a_step_stays_centred():
    t = np.arange(200)
    sine = np.sin(2 * np.pi * t / 40.0)[:, None]
    smoothed = gaussian_filter_weighted(sine, np.ones(200), sigma=3.0)
    interior = slice(20, 180)
    lags = range(-5, 6)
    correlation = [np.dot(smoothed[interior, 0], np.roll(sine[:, 0], lag)[interior]) for lag in lags]
    assert list(lags)[int(np.argmax(correlation))] == 0  # best alignment at lag 0: no lag
    step = (t >= 100).astype(float)[:, None]
    smoothed = gaussian_filter_weighted(step, np.ones(200), sigma=3.0)
    assert smoothed[99, 0] == pytest.approx(1 - smoothed[100, 0])  # symmetric about the step
    assert smoothed[99, 0] < 0.5 < smoothed[100, 0]


def test_rotations_through_180_degrees_are_filtered_on_the_sphere():
    # a root turning steadily through pi: axis-angle flips sign there, quaternions must not
    angles = np.linspace(np.pi - 0.5, np.pi + 0.5, 60)
    orient = Rotation.from_euler("y", angles[:, None]).as_rotvec()
    quat = Rotation.from_rotvec(orient).as_quat()[:, [3, 0, 1, 2]]
    assert (np.sum(sign_continuous(quat)[1:] * sign_continuous(quat)[:-1], -1) > 0).all()
    out = smooth_motion(orient, np.zeros((60, 23, 3)), np.zeros((60, 3)), np.ones(60), fps=FPS, strength=2.0)
    error = (Rotation.from_rotvec(out.global_orient) * Rotation.from_rotvec(orient).inv()).magnitude()
    assert error[5:-5].max() < 0.01  # a constant-speed turn is preserved (a wrong filter would fold it)


def test_filled_frames_follow_their_neighbours():
    orient, pose, transl = _walk(60)
    spiked = transl.copy()
    spiked[30] += [0.0, 0.0, 5.0]  # a filled-in frame with a wild depth
    confidence = np.ones(60)
    confidence[30] = 0.0
    out = smooth_motion(orient, pose, spiked, confidence, fps=FPS)
    assert abs(out.transl[30, 2] - transl[30, 2]) < 0.05


def test_jitter_drops_and_accuracy_improves_on_a_noisy_track():
    orient, pose, transl = _walk()
    truth = _joints(orient, pose, transl)
    noisy = _noisy(orient, pose, transl)
    out = smooth_motion(*noisy, np.ones(len(orient)), fps=FPS)
    noisy_joints, smooth_joints = _joints(*noisy), _joints(out.global_orient, out.body_pose, out.transl)
    before, after = jitter(noisy_joints, FPS), jitter(smooth_joints, FPS)
    assert after < 0.25 * before  # measured: see docs/motion.md
    error_before = np.linalg.norm(noisy_joints - truth, axis=-1).mean()
    error_after = np.linalg.norm(smooth_joints - truth, axis=-1).mean()
    assert error_after < 0.7 * error_before
    # measured at strength 1: jitter 318 -> 9.3 m/s^2 (true motion 3.5), mean joint error 14.3 -> 4.2 cm
    assert np.abs(out.body_pose[20:-20, 0, 0]).max() > 0.8 * 0.5  # the 1 Hz hip swing keeps its amplitude


def test_a_kernel_wider_than_the_clip_averages_the_whole_short_clip():
    values = np.array([[0.0], [1.0], [2.0], [3.0]])
    smoothed = gaussian_filter_weighted(values, np.ones(4), sigma=50.0)  # radius 150 frames over 4
    np.testing.assert_allclose(smoothed[:, 0], 1.5, atol=0.01)
    np.testing.assert_allclose(gaussian_filter_weighted(values[:1], np.ones(1), sigma=50.0), values[:1])
