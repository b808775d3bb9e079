"""Solve each person's whole motion at once, batched over people and frames (torch, CPU or CUDA).

The per-frame estimators (the lift, 3DCrowdNet) answer each frame alone, and the clean-ups after them
each fix one symptom. Here every frame of a person is one optimisation (L-BFGS on 6D rotations and the
root translation; each person their own problem, though fitted in one batch), started from the cleaned-up
estimate, with the evidence and the physics together:

- **evidence**: the SMPL joints reproject onto the 2D keypoints (robust, confidence-weighted) and the
  local rotations agree with the per-frame estimator where it saw the person;
- **physics**: planted feet on the floor and still, no foot joint under the floor, a smooth root and
  smooth joints, a bounded root speed, knees and elbows that hinge and do not bend backwards.

Frames with no observation (filled in by the tracker) carry no evidence, so the motion terms alone
solve them: smooth, on the floor, joining the frames around them. The rest skeleton (one shape, constant
bone lengths) is the person's own and is not changed. Contacts come in from the caller and are
re-estimated between rounds from the fitted motion (``clean_up`` does that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from crowdmocap_addon.core.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from crowdmocap_addon.core.joints import NUM_JOINTS, SMPL_TO_COCO
from crowdmocap_addon.core.result.schema import GroundPlane, PinholeCamera

from . import lbfgs, terms
from .body import forward_kinematics, matrix_to_6d, project, six_d_to_matrix, take

_SMPL_OBSERVED, _COCO_OBSERVING = list(SMPL_TO_COCO), list(SMPL_TO_COCO.values())


@dataclass(kw_only=True, frozen=True)
class FitSettings:
    smoothness: float = 1.0  # strength of the motion prior (root and joint acceleration); the option table's
    iterations: int = 400  # measured (docs/motion.md): 150 left the synthetic crowd 3x further from the truth
    root_iterations: int = 50  # a first pass on where each person is, the pose held
    knot_frames: int = 8  # spacing of the root's slow-motion knots (see ``_hats``)
    # and of the pose's (0: none); measured on the synthetic crowd (docs/motion.md): every 8 frames was worse
    pose_knot_frames: int = 4
    max_root_speed: float = 4.0  # m/s
    hyperextension: float = float(np.radians(10.0))  # how far a knee or elbow may bend backwards
    min_keypoint_confidence: float = 0.3
    # A seen frame whose fitted keypoints miss by more than this (median, in body heights: 10 px on a 100 px
    # person, three times a typical frame's error) was repaired: the physics overruled the evidence.
    repaired_error: float = 0.1
    unexplained_s: float = 1.0  # a run of repaired frames this long is cut out of the track (``cut_unexplained``)
    scales: terms.Scales = field(default_factory=terms.Scales)
    # weights of each term (after its scale): the evidence first, then the physics
    reprojection: float = 60.0
    agreement: float = 0.05
    floor: float = 20.0
    still_feet: float = 0.05
    root_smoothness: float = 0.2
    joint_smoothness: float = 2.0
    speed: float = 10.0
    hinges: float = 0.05
    device: str = "cpu"  # a torch device name; the pipeline passes its own (``devices.resolve_device``)
    workers: int = 0  # processes fitting batches side by side on the CPU (``workers.fit_workers``); 0: one per core


@dataclass(kw_only=True, frozen=True)
class PersonEvidence:
    """One person's start, evidence and contacts, T frames."""

    rest_joints: np.ndarray  # (24, 3)
    global_orient: np.ndarray  # (T, 3) start (the cleaned-up estimate)
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)
    estimator_orient: np.ndarray  # (T, 3) the per-frame estimator's own answer
    estimator_pose: np.ndarray  # (T, 23, 3)
    confidence: np.ndarray  # (T,) the estimator's confidence, 0 on filled-in frames
    keypoints: np.ndarray  # (T, 17, 3)
    contact: np.ndarray  # (T, 2) planted probability

    @property
    def frames(self) -> int:
        return len(self.transl)


@dataclass(kw_only=True, frozen=True)
class FittedMotion:
    global_orient: np.ndarray  # (T, 3)
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)
    reprojection_px: np.ndarray  # (T,) median pixel error of the confident keypoints, NaN without any
    body_height_px: float  # the person's typical image height, the scale of ``reprojection_px``


def _rotations(orient: np.ndarray, pose: np.ndarray) -> np.ndarray:
    return axis_angle_to_matrix(np.concatenate([orient[:, None], pose], axis=1))  # (T, 24, 3, 3)


def _padded(arrays: Sequence[np.ndarray], length: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """Stack per-person (T_i, ...) arrays into (P, length, ...), repeating each one's last frame as padding."""
    out = []
    for array in arrays:
        pad = np.repeat(array[-1:], length - len(array), axis=0)
        out.append(np.concatenate([array, pad]))
    return torch.as_tensor(np.stack(out), dtype=dtype, device=device)


def _batch(people: Sequence[PersonEvidence], settings: FitSettings, fps: float, dtype: torch.dtype) -> terms.Batch:
    length, device = max(p.frames for p in people), settings.device
    valid = torch.zeros((len(people), length), dtype=torch.bool, device=device)
    for i, person in enumerate(people):
        valid[i, : person.frames] = True
    keypoints = [p.keypoints[:, _COCO_OBSERVING] for p in people]
    weights = [np.where(k[..., 2] >= settings.min_keypoint_confidence, k[..., 2], 0.0)
               * (p.confidence[:, None] > 0) for k, p in zip(keypoints, people, strict=True)]  # fmt: skip
    heights = [np.median(np.ptp(p.keypoints[p.confidence > 0, :, 1], axis=1)) if (p.confidence > 0).any() else 100.0
               for p in people]  # fmt: skip
    return terms.Batch(
        valid=valid,
        keypoints=_padded([k[..., :2] for k in keypoints], length, dtype, device),
        keypoint_weight=_padded(weights, length, dtype, device) * valid[..., None],
        body_height_px=torch.as_tensor(np.maximum(heights, 10.0), dtype=dtype, device=device),
        prior=_padded([_rotations(p.estimator_orient, p.estimator_pose) for p in people], length, dtype, device),
        prior_weight=_padded([np.clip(p.confidence, 0, 1) for p in people], length, dtype, device) * valid,
        contact=_padded([np.clip(p.contact, 0, 1) for p in people], length, dtype, device),
        fps=fps,
    )


@dataclass(frozen=True)
class _Scene:
    rest: torch.Tensor  # (P, 24, 3)
    batch: terms.Batch
    camera: PinholeCamera
    ground: GroundPlane | None


def _energy(local: torch.Tensor, transl: torch.Tensor, scene: _Scene, settings: FitSettings,
            posed: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """Each person's energy (P,); ``posed`` is ``forward_kinematics`` at zero translation when ``local`` is held."""
    s, scales, batch, camera, ground = settings, settings.scales, scene.batch, scene.camera, scene.ground
    joints = forward_kinematics(scene.rest, local, transl) if posed is None else posed + transl[:, :, None]
    projected = project(take(joints, 2, _SMPL_OBSERVED), camera.focal_px, camera.principal_point)
    root, every = terms.smooth_motion(joints, batch, scales)
    energy = (
        s.reprojection * terms.reprojection(projected, batch, scales)
        + s.agreement * terms.estimator_agreement(local, batch, scales)
        + s.still_feet * terms.planted_feet_still(joints, batch, scales)
        + s.smoothness * (s.root_smoothness * root + s.joint_smoothness * every)
        + s.speed * terms.bounded_speed(joints, s.max_root_speed, batch, scales)
        + s.hinges * terms.hinge_limits(local, batch, scales, s.hyperextension)
    )
    if ground is not None:
        normal = torch.as_tensor(ground.normal, dtype=local.dtype, device=local.device)
        energy = energy + s.floor * terms.floor_contact(joints, normal, ground.offset, batch, scales)
    return energy


def _hats(length: int, spacing: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """(length, K) piecewise-linear hat functions on knots every ``spacing`` frames (rows sum to 1).

    The root and the pose move through these as well as frame by frame: a slow drift (a depth error
    lasting a second, a leg held at the wrong angle through a stance) is then a few variables, not dozens
    of coupled ones, and L-BFGS removes it in a few steps instead of spreading it one frame per iteration.
    """
    knots = max(int(np.ceil((length - 1) / spacing)) + 1, 2)
    position = torch.arange(length, dtype=dtype, device=device) / spacing
    centres = torch.arange(knots, dtype=dtype, device=device)
    return torch.clamp(1 - (position[:, None] - centres[None]).abs(), min=0)


def to_ray(transl: torch.Tensor) -> torch.Tensor:
    """(..., 3) translation -> (x / z, y / z, log z): depth, the poorly observed direction, as one coordinate.

    Moving a person along their camera ray changes one variable instead of three, so the optimiser does
    not have to crawl along a narrow valley (measured: 3x less root error after the same iterations).
    """
    depth = transl[..., 2:3].clamp(min=0.1)
    return torch.cat([transl[..., :2] / depth, depth.log()], dim=-1)


def from_ray(ray: torch.Tensor) -> torch.Tensor:
    depth = ray[..., 2:3].exp()
    return torch.cat([ray[..., :2] * depth, depth], dim=-1)


def _solve(energy: Callable[..., torch.Tensor], variables: list[torch.Tensor], iterations: int) -> list[torch.Tensor]:
    """Minimise ``energy(*variables)`` (one value per person) over the variables, each (P, ...)."""
    count = variables[0].shape[0]
    sizes = [v[0].numel() for v in variables]

    def unpack(flat: torch.Tensor) -> list[torch.Tensor]:
        return [part.reshape(v.shape) for part, v in zip(flat.split(sizes, dim=1), variables, strict=True)]

    flat = torch.cat([v.reshape(count, -1) for v in variables], dim=1)
    return unpack(lbfgs.minimise(lambda x: energy(*unpack(x)), flat, iterations))


def fit_people(
    people: Sequence[PersonEvidence],
    camera: PinholeCamera,
    ground: GroundPlane | None,
    fps: float,
    settings: FitSettings | None = None,
) -> list[FittedMotion]:
    """Every person's motion fitted at once; the result keeps each person's own frame count."""
    settings = settings or FitSettings()
    if not people:
        return []
    dtype, device = torch.float32, settings.device
    length = max(p.frames for p in people)
    batch = _batch(people, settings, fps, dtype)
    rest = torch.as_tensor(np.stack([p.rest_joints for p in people]), dtype=dtype, device=device)
    scene = _Scene(rest, batch, camera, ground)
    start = _padded([_rotations(p.global_orient, p.body_pose) for p in people], length, dtype, device)
    six = matrix_to_6d(start)
    start_ray = to_ray(_padded([p.transl for p in people], length, dtype, device))
    hats = _hats(length, settings.knot_frames, dtype, device)  # (T, K)
    ray = torch.zeros_like(start_ray)  # per-frame detail
    knots = torch.zeros((len(people), hats.shape[1], 3), dtype=dtype, device=device)

    def root(ray: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
        return from_ray(start_ray + hats @ knots + ray)

    pose_hats = _hats(length, settings.pose_knot_frames, dtype, device) if settings.pose_knot_frames > 0 else None
    pose_knots = torch.zeros((len(people), 0 if pose_hats is None else pose_hats.shape[1], NUM_JOINTS * 6),
                             dtype=dtype, device=device)  # fmt: skip

    def pose(six: torch.Tensor, pose_knots: torch.Tensor) -> torch.Tensor:
        return six if pose_hats is None else six + (pose_hats @ pose_knots).reshape(six.shape)

    # L-BFGS with a line search, per person (``lbfgs``): the energy couples depth, height and pose across
    # frames, where Adam's per-coordinate steps crawl (measured: twice the root error after as many energy
    # evaluations). First the root alone (the pose held): where each person is is most of the error and
    # nearly convex; then everything.
    if settings.root_iterations > 0:
        held = six_d_to_matrix(six)
        posed = forward_kinematics(rest, held, torch.zeros_like(start_ray))  # the pose is held: posed once
        ray, knots = _solve(lambda r, k: _energy(held, root(r, k), scene, settings, posed), [ray, knots],
                            settings.root_iterations)  # fmt: skip
    if settings.iterations > 0:
        six, pose_knots, ray, knots = _solve(
            lambda x, q, r, k: _energy(six_d_to_matrix(pose(x, q)), root(r, k), scene, settings),
            [six, pose_knots, ray, knots], settings.iterations,
        )  # fmt: skip
        six = pose(six, pose_knots)
    with torch.no_grad():
        local, transl = six_d_to_matrix(six), root(ray, knots)
        joints = forward_kinematics(rest, local, transl)
        projected = project(take(joints, 2, _SMPL_OBSERVED), camera.focal_px, camera.principal_point)
        error = (projected - batch.keypoints).norm(dim=-1).cpu().numpy()
    weights = batch.keypoint_weight.cpu().numpy() > 0
    heights = batch.body_height_px.cpu().numpy()
    local_np, transl_np = local.cpu().numpy().astype(np.float64), transl.detach().cpu().numpy().astype(np.float64)
    out = []
    for i, person in enumerate(people):
        count = person.frames
        axis_angle = matrix_to_axis_angle(local_np[i, :count])
        per_frame = np.array([np.median(error[i, t][weights[i, t]]) if weights[i, t].any() else np.nan
                              for t in range(count)])  # fmt: skip
        out.append(FittedMotion(global_orient=axis_angle[:, 0], body_pose=axis_angle[:, 1:],
                                transl=transl_np[i, :count], reprojection_px=per_frame,
                                body_height_px=float(heights[i])))  # fmt: skip
    return out
