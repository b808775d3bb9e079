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

Every step works on all T frames of a track at once (stacked 3x3 algebra, batched SVDs, a batched
Levenberg-Marquardt for the two small fits): solved a frame at a time, with scipy's fits, the Python overhead
cost 15-50 ms a frame. ``solve_frame`` and ``solve_translation`` are the one-frame views of the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

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

# The two small fits (torso, head) are a batched Levenberg-Marquardt from zero, as scipy's "lm" per frame was:
# damped Gauss-Newton steps (Marquardt's diagonal scaling), each frame keeping its own damping and a step only if
# it lowers that frame's cost. Gauss-Newton crawls along the shallow valley of noisy frames (pelvis pitch against
# spine bend; scipy needed 100+ evaluations there and sometimes stopped short), so after _GAUSS_NEWTON_STEPS
# accepted steps a frame takes Newton steps (the full Hessian, with the residuals' curvature) wherever that Hessian
# is positive definite: quadratic convergence to the minimum Gauss-Newton was heading for. The first steps stay
# Gauss-Newton so that frames with several minima settle where scipy's did. Derivatives are central differences
# of step _FIT_STEP: the Jacobian to ~1e-11, the curvature to ~1e-6 (which only slows the convergence). A frame
# stops when its step is below _FIT_TOLERANCE (radians), the last few at _FIT_ITERATIONS.
_FIT_ITERATIONS = 60
_GAUSS_NEWTON_STEPS = 3
_FIT_STEP = 1e-5
_FIT_TOLERANCE = 1e-10
_FIT_DAMPING = 1e-3

# (..., t, n) parameters of the frames ``rows`` (t of them) -> their (..., t, m) residuals
Residual: TypeAlias = Callable[[np.ndarray, np.ndarray | slice], np.ndarray]


@dataclass(frozen=True)
class LiftedPose:
    global_orient: np.ndarray  # (3,) camera frame
    body_pose: np.ndarray  # (23, 3)
    joints_rel: np.ndarray  # (24, 3) posed joints with the hips' centre at the origin, camera axes


@dataclass(frozen=True)
class LiftedPoses:
    global_orient: np.ndarray  # (T, 3) camera frame
    body_pose: np.ndarray  # (T, 23, 3)
    joints_rel: np.ndarray  # (T, 24, 3) posed joints with the hips' centre at the origin, camera axes


def _apply(rotation: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations applied to (..., 3) vectors, broadcast -> (..., 3)."""
    return (rotation @ vector[..., None])[..., 0]


def _transpose(rotation: np.ndarray) -> np.ndarray:
    return np.swapaxes(rotation, -1, -2)


def _kabsch(rest: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(T, K, 3) rest vectors a, targets b and (K,) weights -> (T, 3, 3) rotations R minimising sum w |R a - b|^2."""
    h = _transpose(rest * weights[:, None]) @ target  # (T, 3, 3)
    u, _, vt = np.linalg.svd(h)
    v, ut = _transpose(vt), _transpose(u)
    d = np.sign(np.linalg.det(v @ ut))
    flip = np.ones((*d.shape, 3))
    flip[..., 2] = np.where(d == 0, 1.0, d)
    return (v * flip[..., None, :]) @ ut  # V diag(1, 1, d) U^T


def _bone(bone_rest: np.ndarray, bone_target: np.ndarray, aux_rest: np.ndarray, aux_target: np.ndarray) -> np.ndarray:
    """(T, 3, 3) world rotations turning a bone exactly onto its (T, 3) target, twisted to best fit the auxiliary.

    Rest vectors are (3,) or (T, 3).
    """
    shape = bone_target.shape
    rest = np.stack([np.broadcast_to(bone_rest, shape), np.broadcast_to(aux_rest, shape)], axis=-2)
    guess = _kabsch(rest, np.stack([bone_target, aux_target], axis=-2), np.array([10.0, 1.0]))
    return swing_rotation(_apply(guess, np.broadcast_to(bone_rest, shape)), bone_target) @ guess


def _stencil(size: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Offsets (1 + 2n + n(n - 1), n): the centre, +-h e_i, then +-h (e_i + e_j) for the pairs i < j."""
    eye, pairs = np.eye(size), [(i, j) for i in range(size) for j in range(i + 1, size)]
    both = np.array([eye[i] + eye[j] for i, j in pairs]).reshape(-1, size)
    return _FIT_STEP * np.concatenate([np.zeros((1, size)), eye, -eye, both, -both]), pairs


def _derivatives(values: np.ndarray, size: int, pairs: list[tuple[int, int]]) -> tuple[np.ndarray, ...]:
    """(E, T, m) residuals on the stencil -> (T, m) residuals, (T, m, n) Jacobian and (T, n, n) Hessian of the cost."""
    h, count = _FIT_STEP, len(pairs)
    centre, plus, minus = values[0], values[1 : size + 1], values[size + 1 : 2 * size + 1]
    both_plus, both_minus = values[2 * size + 1 : 2 * size + 1 + count], values[2 * size + 1 + count :]
    jac = np.moveaxis((plus - minus) / (2 * h), 0, -1)
    second = np.empty((size, size, *centre.shape))  # (n, n, T, m) second derivatives of each residual
    for i in range(size):
        second[i, i] = (plus[i] + minus[i] - 2 * centre) / h**2
    for k, (i, j) in enumerate(pairs):
        curl = both_plus[k] + both_minus[k] - plus[i] - minus[i] - plus[j] - minus[j] + 2 * centre
        second[i, j] = second[j, i] = curl / (2 * h**2)
    hessian = _transpose(jac) @ jac + np.einsum("ijtm,tm->tij", second, centre)
    return centre, jac, hessian


def _fit(residual: Residual, frames: int, size: int) -> np.ndarray:
    """(T, n) parameters from zero minimising each frame's sum of squared residuals (see above _FIT_ITERATIONS)."""
    stencil, pairs = _stencil(size)
    x = np.zeros((frames, size))
    damping = np.full(frames, _FIT_DAMPING)
    taken = np.zeros(frames, dtype=int)  # accepted steps
    cost, gradient = np.empty(frames), np.empty((frames, size))
    gauss_newton, hessian = np.empty((frames, size, size)), np.empty((frames, size, size))

    def measure(rows: np.ndarray) -> None:
        """Cost and derivatives at x of frames ``rows``; kept until a step there is accepted."""
        r, jac, full = _derivatives(residual(x[rows] + stencil[:, None, :], rows), size, pairs)
        cost[rows], gradient[rows] = np.sum(r**2, axis=-1), _apply(_transpose(jac), r)
        gauss_newton[rows], hessian[rows] = _transpose(jac) @ jac, full

    rows = np.arange(frames)  # the frames still iterating
    measure(rows)
    for _ in range(_FIT_ITERATIONS):
        newton = (taken[rows] >= _GAUSS_NEWTON_STEPS) & (np.linalg.eigvalsh(hessian[rows])[:, 0] > 0)
        model = np.where(newton[:, None, None], hessian[rows], gauss_newton[rows])
        scale = np.maximum(np.diagonal(gauss_newton[rows], axis1=-2, axis2=-1), 1e-12)
        damped = model + (damping[rows, None] * scale)[..., None] * np.eye(size)
        step = -np.linalg.solve(damped, gradient[rows][..., None])[..., 0]
        trial = x[rows] + step
        better = np.sum(residual(trial, rows) ** 2, axis=-1) < cost[rows]
        x[rows[better]] = trial[better]
        taken[rows[better]] += 1
        measure(rows[better])
        damping[rows] = np.where(better, np.maximum(damping[rows] * 0.1, 1e-12), damping[rows] * 10.0)
        rows = rows[np.abs(step).max(axis=-1) >= _FIT_TOLERANCE]
        if not len(rows):
            break
    return x


def _limit_hinge(parent: np.ndarray, child: np.ndarray, hinge_axis_rest: np.ndarray) -> np.ndarray:
    """Keep hinge joints (elbow, knee) of (T, 3, 3) world rotations from bending backwards past MAX_HYPEREXTENSION."""
    aa = matrix_to_axis_angle(_transpose(parent) @ child)
    bend = aa @ hinge_axis_rest
    over = bend < -MAX_HYPEREXTENSION
    limited = parent @ axis_angle_to_matrix(aa - (bend + MAX_HYPEREXTENSION)[:, None] * hinge_axis_rest)
    return np.where(over[:, None, None], limited, child)


def _torso(rest: np.ndarray, lm: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Pelvis and spine rotations into (T, 24, 3, 3) ``world``; returns the (T, 3) pelvis positions.

    The hip line fixes the pelvis up to its pitch about that line; the pitch and one rotation shared by
    spine1-3 (a smooth bend) are fitted together so the shoulders land on theirs.
    """
    mid_hips_rest, mid_hips = (rest[1] + rest[2]) / 2, (lm[:, L_HIP] + lm[:, R_HIP]) / 2
    mid_sho_rest, mid_sho = (rest[16] + rest[17]) / 2, (lm[:, L_SHOULDER] + lm[:, R_SHOULDER]) / 2
    hip_line = lm[:, L_HIP] - lm[:, R_HIP]
    guess = _bone(rest[1] - rest[2], hip_line, mid_sho_rest - mid_hips_rest, mid_sho - mid_hips)
    axis = hip_line / np.linalg.norm(hip_line, axis=-1, keepdims=True)

    def chain(x: np.ndarray, rows: np.ndarray | slice) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
        """(..., t, 4) pitch and spine rotation of frames ``rows`` -> root, spine1-3, pelvis, (..., t, 6) misses."""
        root = axis_angle_to_matrix(axis[rows] * x[..., :1]) @ guess[rows]
        pelvis = mid_hips[rows] + _apply(root, rest[0] - mid_hips_rest)
        r, g, p, rotations = axis_angle_to_matrix(x[..., 1:]), root, pelvis, []
        for joint in (3, 6, 9):
            p = p + _apply(g, rest[joint] - rest[PARENTS[joint]])
            g = g @ r
            rotations.append(g)
        left, right = p + _apply(g, rest[16] - rest[9]), p + _apply(g, rest[17] - rest[9])
        shoulders = np.concatenate([left - lm[rows, L_SHOULDER], right - lm[rows, R_SHOULDER]], axis=-1)
        return root, rotations, pelvis, shoulders

    fitted = _fit(lambda x, rows: chain(x, rows)[3], len(lm), 4)
    root, (world[:, 3], world[:, 6], world[:, 9]), pelvis, _ = chain(fitted, slice(None))
    world[:, 0] = root
    world[:, 13] = world[:, 14] = world[:, 9]  # collars follow the chest
    return pelvis


def _head(rest: np.ndarray, lm: np.ndarray, world: np.ndarray, neck_pos: np.ndarray) -> None:
    """Neck and head share one rotation, fitted so the nose and ears land on theirs; (T, 3) ``neck_pos``."""
    offsets = np.stack([NOSE_OFFSET, EAR_OFFSET, EAR_OFFSET * [-1.0, 1.0, 1.0]])  # nose, left and right ear
    targets, chest = lm[:, [NOSE, L_EAR, R_EAR]], world[:, 9]

    def residual(rho: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        """(..., t, 3) shared rotations of frames ``rows`` -> (..., t, 9) nose and ear misses."""
        q = axis_angle_to_matrix(rho)
        neck = chest[rows] @ q
        head_pos = neck_pos[rows] + _apply(neck, rest[15] - rest[12])
        points = head_pos[..., None, :] + _apply((neck @ q)[..., None, :, :], offsets)  # (..., t, 3, 3)
        return (points - targets[rows]).reshape(*points.shape[:-2], 9)

    q = axis_angle_to_matrix(_fit(residual, len(lm), 3))
    world[:, 12], world[:, 15] = chest @ q, chest @ q @ q


def _arms(rest: np.ndarray, lm: np.ndarray, world: np.ndarray) -> None:
    across_rest = 2 * KNUCKLE_OFFSET
    for sho, elb, wri, hand, l_sho, l_elb, l_wri, l_idx, l_pky in (
        (16, 18, 20, 22, L_SHOULDER, L_ELBOW, L_WRIST, L_INDEX, L_PINKY),
        (17, 19, 21, 23, R_SHOULDER, R_ELBOW, R_WRIST, R_INDEX, R_PINKY),
    ):
        across = lm[:, l_idx] - lm[:, l_pky]
        upper, fore = lm[:, l_elb] - lm[:, l_sho], lm[:, l_wri] - lm[:, l_elb]
        world[:, sho] = _bone(rest[elb] - rest[sho], upper, rest[wri] - rest[elb], fore)
        world[:, elb] = _bone(rest[wri] - rest[elb], fore, across_rest, across)
        world[:, elb] = _limit_hinge(world[:, sho], world[:, elb], np.array(SMPL_HINGE_AXES[elb]))
        hand_target = (lm[:, l_idx] + lm[:, l_pky]) / 2
        world[:, wri] = _bone(rest[hand] - rest[wri], hand_target - lm[:, l_wri], across_rest, across)
        world[:, hand] = world[:, wri]


def _legs(rest: np.ndarray, lm: np.ndarray, world: np.ndarray) -> None:
    for hip, knee, ankle, foot, l_hip, l_knee, l_ank, l_heel, l_toe in (
        (1, 4, 7, 10, L_HIP, L_KNEE, L_ANKLE, L_HEEL, L_FOOT_INDEX),
        (2, 5, 8, 11, R_HIP, R_KNEE, R_ANKLE, R_HEEL, R_FOOT_INDEX),
    ):
        heel = lm[:, l_heel] - lm[:, l_ank]
        thigh, shin = lm[:, l_knee] - lm[:, l_hip], lm[:, l_ank] - lm[:, l_knee]
        world[:, hip] = _bone(rest[knee] - rest[hip], thigh, rest[ankle] - rest[knee], shin)
        world[:, knee] = _bone(rest[ankle] - rest[knee], shin, HEEL_OFFSET, heel)
        world[:, knee] = _limit_hinge(world[:, hip], world[:, knee], np.array(SMPL_HINGE_AXES[knee]))
        foot_target = lm[:, l_toe] - lm[:, l_ank]
        world[:, ankle] = _bone(rest[foot] + TOE_TIP_OFFSET - rest[ankle], foot_target, HEEL_OFFSET, heel)
        world[:, foot] = world[:, ankle]


def solve_frames(rest: np.ndarray, landmarks: np.ndarray) -> LiftedPoses:
    """(24, 3) rest joints (SMPL frame) and (T, 33, 3) BlazePose world landmarks -> T lifted poses."""
    rest, landmarks = np.asarray(rest, dtype=np.float64), np.asarray(landmarks, dtype=np.float64)
    world = np.zeros((len(landmarks), NUM_JOINTS, 3, 3))
    pelvis = _torso(rest, landmarks, world)
    neck_pos = pelvis + sum(_apply(world[:, PARENTS[j]], rest[j] - rest[PARENTS[j]]) for j in (3, 6, 9, 12))
    _head(rest, landmarks, world, neck_pos)
    _arms(rest, landmarks, world)
    _legs(rest, landmarks, world)
    local = np.concatenate([world[:, :1], _transpose(world[:, list(PARENTS[1:])]) @ world[:, 1:]], axis=1)
    aa = matrix_to_axis_angle(local)  # (T, 24, 3)
    posed = forward_kinematics(rest, aa[:, 0], aa[:, 1:], np.zeros((len(aa), 3))).joints
    mid_hips = (landmarks[:, L_HIP] + landmarks[:, R_HIP]) / 2
    joints_rel = posed + (mid_hips - (posed[:, 1] + posed[:, 2]) / 2)[:, None]
    return LiftedPoses(global_orient=aa[:, 0], body_pose=aa[:, 1:], joints_rel=joints_rel)


def solve_frame(rest: np.ndarray, landmarks: np.ndarray) -> LiftedPose:
    """(24, 3) rest joints (SMPL frame) and (33, 3) BlazePose world landmarks -> one lifted pose."""
    poses = solve_frames(rest, np.asarray(landmarks)[None])
    return LiftedPose(poses.global_orient[0], poses.body_pose[0], poses.joints_rel[0])


def solve_translations(joints_rel: np.ndarray, keypoints2d: np.ndarray, camera: PinholeCamera,
                       min_confidence: float = 0.1) -> np.ndarray:  # fmt: skip
    """(T, 24, 3) posed joints (any origin) and (T, 17, 3) COCO keypoints -> (T, 3) t reprojecting joints + t onto them.

    With each keypoint's ray (r_x, r_y, 1): linear least squares on (X + t_x) - r_x (Z + t_z) = 0 (and the
    same for y), confidence-weighted. NaN rows where fewer than two keypoints are confident.
    """
    joints_rel, keypoints2d = np.asarray(joints_rel, dtype=np.float64), np.asarray(keypoints2d, dtype=np.float64)
    joints, coco = list(OBSERVED_COCO), list(OBSERVED_COCO.values())
    frames, count = len(keypoints2d), len(coco)
    confidence = keypoints2d[:, coco, 2]  # (T, K)
    used = confidence > min_confidence
    weight = np.sqrt(np.where(used, confidence, 0.0))[..., None]  # (T, K, 1); unused rows become zero rows
    rays = camera.rays(keypoints2d[:, coco])
    rx, ry = rays[..., 0], rays[..., 1]
    x, y, z = np.moveaxis(joints_rel[:, joints], -1, 0)
    one, zero = np.ones_like(rx), np.zeros_like(rx)
    system = np.stack([one, zero, -rx, zero, one, -ry], axis=-1)  # (T, K, 6): the x row, then the y row
    rhs = np.stack([rx * z - x, ry * z - y], axis=-1)  # (T, K, 2)
    system = np.where(used[..., None], system * weight, 0.0).reshape(frames, 2 * count, 3)
    rhs = np.where(used[..., None], rhs * weight, 0.0).reshape(frames, 2 * count)
    solution = _apply(np.linalg.pinv(system), rhs)  # least squares, as np.linalg.lstsq per frame
    return np.where((used.sum(axis=1) >= 2)[:, None], solution, np.nan)


def solve_translation(joints_rel: np.ndarray, keypoints2d: np.ndarray, camera: PinholeCamera,
                      min_confidence: float = 0.1) -> np.ndarray | None:  # fmt: skip
    """(24, 3) posed joints and (17, 3) COCO keypoints -> (3,) t as ``solve_translations``, or None where unplaced."""
    shift = solve_translations(np.asarray(joints_rel)[None], np.asarray(keypoints2d)[None], camera, min_confidence)[0]
    return None if np.isnan(shift).any() else shift
