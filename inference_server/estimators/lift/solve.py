"""The weights-free 3D estimator ("lift"): SMPL pose from BlazePose's metric 3D landmarks by analytic IK.

BlazePose gives 33 landmarks in metres around the hips, in camera-aligned axes (x right, y down, z away):
exactly SMPL's camera frame up to a translation. Each SMPL joint's world rotation is solved top-down on
the 24-joint tree from a rest skeleton (the user's SMPL shape or CrowdMocap's stand-in):

- pelvis: from the hip line and the hips' centre;
- spine: one rotation shared by spine1-3 (a smooth bend) solved so the shoulders land on theirs;
- neck and head: one rotation shared by both, solved so the ears and nose land on theirs;
- limbs: each bone turned onto its target (exact direction) with the twist taken from the next bone or
  an auxiliary landmark (forearm for the upper arm, index/pinky for the forearm and hand, heel for the foot);
- elbows and knees are kept to plausible bends (no hyperextension beyond 10 degrees).

The translation is solved in closed form (linear least squares) so the posed joints reproject onto the
2D keypoints in the full-image camera, weighted by keypoint confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.geometry import axis_angle_to_matrix, matrix_to_axis_angle, swing_rotation
from crowdmocap_addon.core.joints import NUM_JOINTS, PARENTS, SMPL_HINGE_AXES
from crowdmocap_addon.core.result.schema import PinholeCamera

from .landmarks import (
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_FOOT_INDEX,
    L_HEEL,
    L_HIP,
    L_INDEX,
    L_KNEE,
    L_PINKY,
    L_SHOULDER,
    L_WRIST,
    NOSE,
    OBSERVED_COCO,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_FOOT_INDEX,
    R_HEEL,
    R_HIP,
    R_INDEX,
    R_KNEE,
    R_PINKY,
    R_SHOULDER,
    R_WRIST,
)

# Where the auxiliary landmarks sit on a rest-pose (T-pose) body, relative to their SMPL joint and in that
# joint's rest frame (y up, facing +z): face, toe tip, heel and the index/pinky knuckles' across-hand axis.
NOSE_OFFSET = np.array([0.0, 0.0, 0.10])  # from the head joint
EAR_OFFSET = np.array([0.075, 0.0, -0.01])  # left ear; the right one mirrors x
TOE_TIP_OFFSET = np.array([0.0, 0.0, 0.07])  # from the foot joint (ball of the foot)
HEEL_OFFSET = np.array([0.0, -0.06, -0.06])  # from the ankle
KNUCKLE_OFFSET = np.array([0.0, 0.0, 0.03])  # index knuckle from the hand joint; the pinky's is -z
MAX_HYPEREXTENSION = np.radians(10.0)


@dataclass(frozen=True)
class LiftedPose:
    global_orient: np.ndarray  # (3,) camera frame
    body_pose: np.ndarray  # (23, 3)
    joints_rel: np.ndarray  # (24, 3) posed joints with the hips' centre at the origin, camera axes


def _kabsch(rest: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rotation R minimising sum w |R a - b|^2 for (K, 3) rest vectors a and targets b."""
    h = (rest * weights[:, None]).T @ target
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def _bone(bone_rest: np.ndarray, bone_target: np.ndarray, aux_rest: np.ndarray, aux_target: np.ndarray) -> np.ndarray:
    """World rotation turning a bone exactly onto its target, with the twist that best fits the auxiliary vector."""
    guess = _kabsch(np.stack([bone_rest, aux_rest]), np.stack([bone_target, aux_target]), np.array([10.0, 1.0]))
    return swing_rotation(guess @ bone_rest, bone_target) @ guess


def _chain_fit(residual, start: np.ndarray) -> np.ndarray:
    return least_squares(residual, start, method="lm", xtol=1e-12, ftol=1e-12).x


def _limit_hinge(parent: np.ndarray, child: np.ndarray, hinge_axis_rest: np.ndarray) -> np.ndarray:
    """Keep a hinge joint (elbow, knee) from bending backwards more than MAX_HYPEREXTENSION."""
    local = parent.T @ child
    aa = matrix_to_axis_angle(local)
    bend = float(aa @ hinge_axis_rest)
    if bend < -MAX_HYPEREXTENSION:
        aa = aa - (bend + MAX_HYPEREXTENSION) * hinge_axis_rest
        return parent @ axis_angle_to_matrix(aa)
    return child


def _torso(rest: np.ndarray, lm: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Pelvis and spine rotations into ``world``; returns the pelvis position.

    The hip line fixes the pelvis up to its pitch about that line; the pitch and one rotation shared by
    spine1-3 (a smooth bend) are fitted together so the shoulders land on theirs.
    """
    mid_hips_rest, mid_hips = (rest[1] + rest[2]) / 2, (lm[L_HIP] + lm[R_HIP]) / 2
    mid_sho_rest, mid_sho = (rest[16] + rest[17]) / 2, (lm[L_SHOULDER] + lm[R_SHOULDER]) / 2
    hip_line = lm[L_HIP] - lm[R_HIP]
    guess = _bone(rest[1] - rest[2], hip_line, mid_sho_rest - mid_hips_rest, mid_sho - mid_hips)
    axis = hip_line / np.linalg.norm(hip_line)

    def chain(x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
        root = axis_angle_to_matrix(axis * x[0]) @ guess
        pelvis = mid_hips + root @ (rest[0] - mid_hips_rest)
        r, g, p, rotations = axis_angle_to_matrix(x[1:]), root, pelvis, []
        for joint in (3, 6, 9):
            p = p + g @ (rest[joint] - rest[PARENTS[joint]])
            g = g @ r
            rotations.append(g)
        shoulders = np.concatenate(
            [p + g @ (rest[16] - rest[9]) - lm[L_SHOULDER], p + g @ (rest[17] - rest[9]) - lm[R_SHOULDER]]
        )
        return root, rotations, pelvis, shoulders

    root, (world[3], world[6], world[9]), pelvis, _ = chain(_chain_fit(lambda x: chain(x)[3], np.zeros(4)))
    world[0] = root
    world[13] = world[14] = world[9]  # collars follow the chest
    return pelvis


def _head(rest: np.ndarray, lm: np.ndarray, world: np.ndarray, neck_pos: np.ndarray) -> None:
    """Neck and head share one rotation, fitted so the nose and ears land on theirs."""
    mirror = np.array([-1.0, 1.0, 1.0])

    def residual(rho: np.ndarray) -> np.ndarray:
        q = axis_angle_to_matrix(rho)
        head_rot = world[9] @ q @ q
        head_pos = neck_pos + world[9] @ q @ (rest[15] - rest[12])
        return np.concatenate([head_pos + head_rot @ NOSE_OFFSET - lm[NOSE],
                               head_pos + head_rot @ EAR_OFFSET - lm[L_EAR],
                               head_pos + head_rot @ (EAR_OFFSET * mirror) - lm[R_EAR]])  # fmt: skip

    q = axis_angle_to_matrix(_chain_fit(residual, np.zeros(3)))
    world[12], world[15] = world[9] @ q, world[9] @ q @ q


def _arms(rest: np.ndarray, lm: np.ndarray, world: np.ndarray) -> None:
    across_rest = 2 * KNUCKLE_OFFSET
    for sho, elb, wri, hand, l_sho, l_elb, l_wri, l_idx, l_pky in (
        (16, 18, 20, 22, L_SHOULDER, L_ELBOW, L_WRIST, L_INDEX, L_PINKY),
        (17, 19, 21, 23, R_SHOULDER, R_ELBOW, R_WRIST, R_INDEX, R_PINKY),
    ):
        across = lm[l_idx] - lm[l_pky]
        world[sho] = _bone(rest[elb] - rest[sho], lm[l_elb] - lm[l_sho], rest[wri] - rest[elb], lm[l_wri] - lm[l_elb])
        world[elb] = _bone(rest[wri] - rest[elb], lm[l_wri] - lm[l_elb], across_rest, across)
        world[elb] = _limit_hinge(world[sho], world[elb], np.array(SMPL_HINGE_AXES[elb]))
        hand_target = (lm[l_idx] + lm[l_pky]) / 2
        world[wri] = _bone(rest[hand] - rest[wri], hand_target - lm[l_wri], across_rest, across)
        world[hand] = world[wri]


def _legs(rest: np.ndarray, lm: np.ndarray, world: np.ndarray) -> None:
    for hip, knee, ankle, foot, l_hip, l_knee, l_ank, l_heel, l_toe in (
        (1, 4, 7, 10, L_HIP, L_KNEE, L_ANKLE, L_HEEL, L_FOOT_INDEX),
        (2, 5, 8, 11, R_HIP, R_KNEE, R_ANKLE, R_HEEL, R_FOOT_INDEX),
    ):
        heel = lm[l_heel] - lm[l_ank]
        world[hip] = _bone(rest[knee] - rest[hip], lm[l_knee] - lm[l_hip], rest[ankle] - rest[knee],
                           lm[l_ank] - lm[l_knee])  # fmt: skip
        world[knee] = _bone(rest[ankle] - rest[knee], lm[l_ank] - lm[l_knee], HEEL_OFFSET, heel)
        world[knee] = _limit_hinge(world[hip], world[knee], np.array(SMPL_HINGE_AXES[knee]))
        world[ankle] = _bone(rest[foot] + TOE_TIP_OFFSET - rest[ankle], lm[l_toe] - lm[l_ank], HEEL_OFFSET, heel)
        world[foot] = world[ankle]


def solve_frame(rest: np.ndarray, landmarks: np.ndarray) -> LiftedPose:
    """(24, 3) rest joints (SMPL frame) and (33, 3) BlazePose world landmarks -> one lifted pose."""
    world = np.zeros((NUM_JOINTS, 3, 3))
    pelvis = _torso(rest, landmarks, world)
    neck_pos = pelvis + sum(world[PARENTS[j]] @ (rest[j] - rest[PARENTS[j]]) for j in (3, 6, 9, 12))
    _head(rest, landmarks, world, neck_pos)
    _arms(rest, landmarks, world)
    _legs(rest, landmarks, world)
    local = np.empty_like(world)
    local[0] = world[0]
    for joint in range(1, NUM_JOINTS):
        local[joint] = world[PARENTS[joint]].T @ world[joint]
    aa = matrix_to_axis_angle(local)
    posed = forward_kinematics(rest, aa[None, 0], aa[None, 1:], np.zeros((1, 3))).joints[0]
    mid_hips = (landmarks[L_HIP] + landmarks[R_HIP]) / 2
    return LiftedPose(global_orient=aa[0], body_pose=aa[1:], joints_rel=posed + mid_hips - (posed[1] + posed[2]) / 2)


def solve_translation(joints_rel: np.ndarray, keypoints2d: np.ndarray, camera: PinholeCamera,
                      min_confidence: float = 0.1) -> np.ndarray | None:  # fmt: skip
    """(24, 3) posed joints (any origin) and (17, 3) COCO keypoints -> t with joints + t reprojecting onto them.

    With each keypoint's ray (r_x, r_y, 1): linear least squares on (X + t_x) - r_x (Z + t_z) = 0 (and the
    same for y), confidence-weighted. None when fewer than two keypoints are confident.
    """
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
    solution, *_ = np.linalg.lstsq(np.array(rows) * w, np.array(rhs) * w[:, 0], rcond=None)
    return solution
