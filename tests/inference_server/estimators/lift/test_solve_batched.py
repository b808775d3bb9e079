"""The batched lift gives what the per-frame solver it replaced gave, frame by frame.

The oracle below is that per-frame solver (scipy's Levenberg-Marquardt per frame for the torso and head fits,
one Kabsch SVD per bone), kept here only to check the batched code against; nothing else may use it.
"""

import numpy as np
import pytest
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS as REST
from crowdmocap_addon.core.geometry import axis_angle_to_matrix, matrix_to_axis_angle, swing_rotation
from crowdmocap_addon.core.joints import NUM_JOINTS, PARENTS, SMPL_HINGE_AXES
from inference_server.camera import full_image_camera
from inference_server.estimators.lift import solve as lift
from inference_server.estimators.lift.landmarks import OBSERVED_COCO
from inference_server.estimators.lift.solve import solve_frame, solve_frames, solve_translation, solve_translations
from tests.inference_server.estimators.lift.test_solve import _landmarks, _plausible_pose

# --- the oracle: the per-frame solver as it was before batching -------------------------------------------


def _kabsch(rest, target, weights):
    u, _, vt = np.linalg.svd((rest * weights[:, None]).T @ target)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def _bone(bone_rest, bone_target, aux_rest, aux_target):
    guess = _kabsch(np.stack([bone_rest, aux_rest]), np.stack([bone_target, aux_target]), np.array([10.0, 1.0]))
    return swing_rotation(guess @ bone_rest, bone_target) @ guess


def _chain_fit(residual, start):
    return least_squares(residual, start, method="lm", xtol=1e-12, ftol=1e-12).x


def _limit_hinge(parent, child, axis):
    aa = matrix_to_axis_angle(parent.T @ child)
    bend = float(aa @ axis)
    if bend < -lift.MAX_HYPEREXTENSION:
        return parent @ axis_angle_to_matrix(aa - (bend + lift.MAX_HYPEREXTENSION) * axis)
    return child


def _oracle_torso(rest, lm, world):
    mid_hips_rest, mid_hips = (rest[1] + rest[2]) / 2, (lm[lift.L_HIP] + lm[lift.R_HIP]) / 2
    mid_sho_rest, mid_sho = (rest[16] + rest[17]) / 2, (lm[lift.L_SHOULDER] + lm[lift.R_SHOULDER]) / 2
    hip_line = lm[lift.L_HIP] - lm[lift.R_HIP]
    guess = _bone(rest[1] - rest[2], hip_line, mid_sho_rest - mid_hips_rest, mid_sho - mid_hips)
    axis = hip_line / np.linalg.norm(hip_line)

    def chain(x):
        root = axis_angle_to_matrix(axis * x[0]) @ guess
        pelvis = mid_hips + root @ (rest[0] - mid_hips_rest)
        r, g, p, rotations = axis_angle_to_matrix(x[1:]), root, pelvis, []
        for joint in (3, 6, 9):
            p = p + g @ (rest[joint] - rest[PARENTS[joint]])
            g = g @ r
            rotations.append(g)
        shoulders = np.concatenate(
            [p + g @ (rest[16] - rest[9]) - lm[lift.L_SHOULDER], p + g @ (rest[17] - rest[9]) - lm[lift.R_SHOULDER]]
        )
        return root, rotations, pelvis, shoulders

    root, (world[3], world[6], world[9]), pelvis, _ = chain(_chain_fit(lambda x: chain(x)[3], np.zeros(4)))
    world[0] = root
    world[13] = world[14] = world[9]
    return pelvis


def _oracle_head(rest, lm, world, neck_pos):
    mirror = np.array([-1.0, 1.0, 1.0])

    def residual(rho):
        q = axis_angle_to_matrix(rho)
        head_rot = world[9] @ q @ q
        head_pos = neck_pos + world[9] @ q @ (rest[15] - rest[12])
        return np.concatenate([head_pos + head_rot @ lift.NOSE_OFFSET - lm[lift.NOSE],
                               head_pos + head_rot @ lift.EAR_OFFSET - lm[lift.L_EAR],
                               head_pos + head_rot @ (lift.EAR_OFFSET * mirror) - lm[lift.R_EAR]])  # fmt: skip

    q = axis_angle_to_matrix(_chain_fit(residual, np.zeros(3)))
    world[12], world[15] = world[9] @ q, world[9] @ q @ q


def _oracle_limbs(rest, lm, world):
    across_rest = 2 * lift.KNUCKLE_OFFSET
    for sho, elb, wri, hand, l_sho, l_elb, l_wri, l_idx, l_pky in (
        (16, 18, 20, 22, lift.L_SHOULDER, lift.L_ELBOW, lift.L_WRIST, lift.L_INDEX, lift.L_PINKY),
        (17, 19, 21, 23, lift.R_SHOULDER, lift.R_ELBOW, lift.R_WRIST, lift.R_INDEX, lift.R_PINKY),
    ):
        across = lm[l_idx] - lm[l_pky]
        world[sho] = _bone(rest[elb] - rest[sho], lm[l_elb] - lm[l_sho], rest[wri] - rest[elb], lm[l_wri] - lm[l_elb])
        world[elb] = _bone(rest[wri] - rest[elb], lm[l_wri] - lm[l_elb], across_rest, across)
        world[elb] = _limit_hinge(world[sho], world[elb], np.array(SMPL_HINGE_AXES[elb]))
        world[wri] = _bone(rest[hand] - rest[wri], (lm[l_idx] + lm[l_pky]) / 2 - lm[l_wri], across_rest, across)
        world[hand] = world[wri]
    for hip, knee, ankle, foot, l_hip, l_knee, l_ank, l_heel, l_toe in (
        (1, 4, 7, 10, lift.L_HIP, lift.L_KNEE, lift.L_ANKLE, lift.L_HEEL, lift.L_FOOT_INDEX),
        (2, 5, 8, 11, lift.R_HIP, lift.R_KNEE, lift.R_ANKLE, lift.R_HEEL, lift.R_FOOT_INDEX),
    ):
        heel = lm[l_heel] - lm[l_ank]
        world[hip] = _bone(rest[knee] - rest[hip], lm[l_knee] - lm[l_hip], rest[ankle] - rest[knee],
                           lm[l_ank] - lm[l_knee])  # fmt: skip
        world[knee] = _bone(rest[ankle] - rest[knee], lm[l_ank] - lm[l_knee], lift.HEEL_OFFSET, heel)
        world[knee] = _limit_hinge(world[hip], world[knee], np.array(SMPL_HINGE_AXES[knee]))
        toe = rest[foot] + lift.TOE_TIP_OFFSET - rest[ankle]
        world[ankle] = _bone(toe, lm[l_toe] - lm[l_ank], lift.HEEL_OFFSET, heel)
        world[foot] = world[ankle]


def oracle_frame(rest, landmarks):
    """(33, 3) landmarks -> (24, 3) axis-angle (global_orient first) and (24, 3) joints_rel, per frame."""
    world = np.zeros((NUM_JOINTS, 3, 3))
    pelvis = _oracle_torso(rest, landmarks, world)
    neck_pos = pelvis + sum(world[PARENTS[j]] @ (rest[j] - rest[PARENTS[j]]) for j in (3, 6, 9, 12))
    _oracle_head(rest, landmarks, world, neck_pos)
    _oracle_limbs(rest, landmarks, world)
    local = np.empty_like(world)
    local[0] = world[0]
    for joint in range(1, NUM_JOINTS):
        local[joint] = world[PARENTS[joint]].T @ world[joint]
    aa = matrix_to_axis_angle(local)
    posed = forward_kinematics(rest, aa[None, 0], aa[None, 1:], np.zeros((1, 3))).joints[0]
    mid_hips = (landmarks[lift.L_HIP] + landmarks[lift.R_HIP]) / 2
    return aa, posed + mid_hips - (posed[1] + posed[2]) / 2


def oracle_translation(joints_rel, keypoints2d, camera, min_confidence=0.1):
    """(24, 3) joints and (17, 3) keypoints -> (3,), or None where fewer than two keypoints are confident."""
    rows, rhs, weights = [], [], []
    rays = camera.rays(keypoints2d)
    for joint, coco in OBSERVED_COCO.items():
        c = keypoints2d[coco, 2]
        if c <= min_confidence:
            continue
        x, y, z = joints_rel[joint]
        rx, ry, _ = rays[coco]
        rows += [[1.0, 0.0, -rx], [0.0, 1.0, -ry]]
        rhs += [rx * z - x, ry * z - y]
        weights += [c, c]
    if len(rows) < 4:
        return None
    w = np.sqrt(np.array(weights))[:, None]
    return np.linalg.lstsq(np.array(rows) * w, np.array(rhs) * w[:, 0], rcond=None)[0]


# --- inputs ------------------------------------------------------------------------------------------------


def _bent_pose(rng):
    """A harder pose for the two fits: pelvis pitched up to 30 degrees, a stronger spine bend, a turned head."""
    orient, body = _plausible_pose(rng)
    orient = (Rotation.from_rotvec(orient) * Rotation.from_rotvec([rng.uniform(-0.5, 0.5), 0, 0])).as_rotvec()
    body[[2, 5, 8]] = rng.normal(scale=0.15, size=3)  # spine1-3
    body[[11, 14]] = rng.normal(scale=0.25, size=3)  # neck, head
    return orient, body


def _track(seed: int, frames: int) -> np.ndarray:
    """(T, 33, 3) landmarks: plausible and bent poses in turn, with 0, 1, 3 and 5 cm of landmark noise in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(frames):
        pose = (_plausible_pose, _bent_pose)[i % 2](rng)
        landmarks, _ = _landmarks(*pose, rng.normal(size=3))
        out.append(landmarks + rng.normal(scale=(0.0, 0.01, 0.03, 0.05)[i // 2 % 4], size=landmarks.shape))
    return np.array(out)


def _angles(a, b):
    """(..., 3) and (..., 3) axis-angle -> (...,) the angle between the rotations (accurate for small ones)."""
    return np.linalg.norm(axis_angle_to_matrix(a) - axis_angle_to_matrix(b), axis=(-2, -1)) / np.sqrt(2)


# --- tests -------------------------------------------------------------------------------------------------


def test_batched_solver_matches_the_per_frame_one():
    landmarks = _track(seed=1, frames=96)
    lifted = solve_frames(REST, landmarks)
    expected = [oracle_frame(REST, frame) for frame in landmarks]
    rotations = np.array([aa for aa, _ in expected])
    joints = np.array([j for _, j in expected])
    assert np.abs(lifted.joints_rel - joints).max() < 1e-6  # metres; measured 1.1e-7
    # scipy stopped up to ~3e-6 rad short of the minimum in the flat fits of noisy frames; the batched fit goes on
    found = np.concatenate([lifted.global_orient[:, None], lifted.body_pose], axis=1)
    assert _angles(found, rotations).max() < 5e-6  # measured 9.5e-7 (up to 3.8e-6 on other seeds)


def test_one_frame_is_the_batch_of_one():
    landmarks = _track(seed=2, frames=6)
    lifted = solve_frames(REST, landmarks)
    for t, frame in enumerate(landmarks):
        single = solve_frame(REST, frame)
        np.testing.assert_allclose(single.joints_rel, lifted.joints_rel[t], atol=1e-12)
        np.testing.assert_allclose(single.body_pose, lifted.body_pose[t], atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_batched_translations_match_the_per_frame_ones(seed):
    rng = np.random.default_rng(seed)
    camera = full_image_camera(768, 576)
    frames = 40
    orient, body = rng.normal(scale=0.3, size=(frames, 3)), rng.normal(scale=0.2, size=(frames, 23, 3))
    joints = forward_kinematics(REST, orient, body, rng.normal(size=(frames, 3)) + [0.0, 0.0, 8.0]).joints
    keypoints = np.zeros((frames, 17, 3))
    for joint, coco in OBSERVED_COCO.items():
        keypoints[:, coco, :2] = camera.focal_px * joints[:, joint, :2] / joints[:, joint, 2:] + [384, 288]
    keypoints[..., :2] += rng.normal(scale=3.0, size=(frames, 17, 2))  # pixels
    keypoints[..., 2] = rng.uniform(0.0, 1.0, size=(frames, 17))
    confident = rng.integers(0, 5, size=frames)  # 0 to 4 confident keypoints in some frames, all in the others
    for t in range(0, frames, 2):
        keypoints[t, :, 2] = 0.05
        keypoints[t, rng.choice(list(OBSERVED_COCO.values()), confident[t], replace=False), 2] = 0.8
    joints_rel = joints - (joints[:, 1:2] + joints[:, 2:3]) / 2
    shifts = solve_translations(joints_rel, keypoints, camera)
    for t in range(frames):
        expected = oracle_translation(joints_rel[t], keypoints[t], camera)
        if expected is None:
            assert np.isnan(shifts[t]).all() and solve_translation(joints_rel[t], keypoints[t], camera) is None
        else:
            np.testing.assert_allclose(shifts[t], expected, atol=1e-9)
    unplaced = [t for t in range(0, frames, 2) if confident[t] < 2]
    assert unplaced and np.isnan(shifts[unplaced]).all() and np.isfinite(np.delete(shifts, unplaced, axis=0)).all()
