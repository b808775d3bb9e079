"""The fit's energy, term by term: what the evidence says, and what a human body on a floor can do.

Every term is a mean over the elements it constrains, each residual divided by the size of error that
is normal for it (``Scales``), so a term near 1 means "about as wrong as expected" and weights compare
like with like. Tensors are batched (P people, T frames); ``valid`` masks the padding of shorter tracks.
Each term is one value per person, (P,): a person's energy is their own, whoever they are fitted with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from crowdmocap_addon.core.joints import SMPL, SMPL_FEET, SMPL_HINGE_AXES

from .body import take

PELVIS = 0
_FEET = [j for foot in SMPL_FEET for j in foot]  # (left ankle, left toes, right ankle, right toes)
_ARMS = [SMPL[f"{side}_{joint}"] for side in ("left", "right") for joint in ("elbow", "wrist", "hand")]


@dataclass(kw_only=True, frozen=True)
class Scales:
    """The size of a normal error for each term (what a residual is divided by)."""

    keypoint: float = 0.2  # body heights: Geman-McClure scale, beyond which a keypoint stops pulling
    rotation: float = 0.25  # radians between the fit and the per-frame estimator for a joint
    contact_height: float = 0.02  # m: a planted foot's lowest joint above (or under) the floor
    penetration: float = 0.01  # m under the floor
    support: float = 0.05  # m: the lowest foot joint of someone standing or walking above the floor (Cauchy)
    contact_speed: float = 0.05  # m/s of a planted foot
    root_acceleration: float = 3.0  # m/s² of the pelvis (a walker's is ~2-5)
    joint_acceleration: float = 15.0  # m/s² of any joint but the arms' (a walker's swinging foot: ~10-20)
    # m/s² of the elbows, wrists and hands: an arm swinging with a walk (±0.2 m at ~0.9 Hz) accelerates at
    # ~5-7; at 15 the fit kept BlazePose's wrist jitter, at 7.5 it overruled a partly hidden walker's
    # evidence (docs/motion.md, "Arms")
    arm_acceleration: float = 10.0
    overspeed: float = 0.25  # m/s above the speed limit, on any one pair of frames (``bounded_speed``)
    hinge_twist: float = 0.3  # how far a knee or elbow turns off its hinge axis (|R a - a|)
    hyperextension: float = 0.05  # sin of the angle a hinge bends backwards past its allowance


@dataclass(frozen=True)
class Batch:
    """Everything the terms read, as tensors."""

    valid: torch.Tensor  # (P, T) bool: a real frame, not padding
    keypoints: torch.Tensor  # (P, T, K, 2) pixels of the COCO keypoints that observe SMPL joints
    keypoint_weight: torch.Tensor  # (P, T, K) confidence; 0 where not evidence
    body_height_px: torch.Tensor  # (P,) the person's typical image height, for scale-free keypoint errors
    prior: torch.Tensor  # (P, T, 24, 3, 3) the per-frame estimator's local rotations
    prior_weight: torch.Tensor  # (P, T) its confidence; 0 on filled-in frames
    contact: torch.Tensor  # (P, T, 2) left/right planted probability
    fps: float


def _masked_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(P, ...) -> (P,): each person's weighted mean."""
    weighted = values * weights
    dims = tuple(range(1, weighted.ndim))
    return weighted.sum(dim=dims) / weights.expand_as(weighted).sum(dim=dims).clamp(min=1e-9)


def reprojection(projected: torch.Tensor, batch: Batch, scales: Scales) -> torch.Tensor:
    """Robust (Geman-McClure) distance of the projected joints to their keypoints, in body heights."""
    distance = (projected - batch.keypoints).norm(dim=-1) / batch.body_height_px[:, None, None]
    squared = (distance / scales.keypoint) ** 2
    return _masked_mean(squared / (1.0 + squared), batch.keypoint_weight)


def estimator_agreement(local: torch.Tensor, batch: Batch, scales: Scales) -> torch.Tensor:
    """Chordal distance of every local rotation to the per-frame estimator's, where it saw the person."""
    chordal = ((local - batch.prior) ** 2).sum(dim=(-1, -2)) / (2 * scales.rotation**2)  # ~ (angle / scale)²
    return _masked_mean(chordal.mean(dim=-1), batch.prior_weight)


def _feet_heights(joints: torch.Tensor, normal: torch.Tensor, offset: float) -> torch.Tensor:
    """(P, T, 2, 2) height above the floor of each side's (ankle, toes)."""
    feet = take(joints, 2, _FEET)  # (P, T, 4, 3)
    return ((feet @ normal) + offset).reshape(*feet.shape[:2], 2, 2)


def floor_contact(
    joints: torch.Tensor, normal: torch.Tensor, offset: float, batch: Batch, scales: Scales
) -> torch.Tensor:
    """Feet and floor: planted feet touch it, no foot joint is under it, and someone always stands on it.

    The last is what holds a person whose contacts are unknown to the floor: in a crowd, nearly every
    frame of nearly everyone has a foot down. It is robust (Cauchy: a real jump costs little) but never
    flat, so a person placed 30 cm above the floor is still pulled down (Geman-McClure let them float).
    """
    heights = _feet_heights(joints, normal, offset)
    lowest = _soft_min(heights)  # (P, T, 2): each side's lowest joint
    weights = batch.contact * batch.valid[..., None]
    touching = _masked_mean((lowest / scales.contact_height) ** 2, weights)
    valid = batch.valid.float()
    under = _masked_mean(((torch.relu(-heights) / scales.penetration) ** 2).sum((-1, -2)), valid)
    standing = (_soft_min(lowest) / scales.support) ** 2
    return touching + under + _masked_mean(torch.log1p(standing), valid)


def _soft_min(values: torch.Tensor, softness: float = 0.01) -> torch.Tensor:
    """A smooth minimum over the last axis (within ``softness`` metres of the true one)."""
    return -torch.logsumexp(-values / softness, dim=-1) * softness


def _pairs(valid: torch.Tensor) -> torch.Tensor:
    """(P, T - 1) both frames of a consecutive pair are real."""
    return (valid[:, 1:] & valid[:, :-1]).float()


def _triples(valid: torch.Tensor) -> torch.Tensor:
    return (valid[:, 2:] & valid[:, 1:-1] & valid[:, :-2]).float()


def planted_feet_still(joints: torch.Tensor, batch: Batch, scales: Scales) -> torch.Tensor:
    """A foot in contact does not move (what foot locking enforced after the fact)."""
    feet = take(joints, 2, _FEET).reshape(*joints.shape[:2], 2, 2, 3)
    speed = (feet[:, 1:] - feet[:, :-1]).norm(dim=-1) * batch.fps  # (P, T - 1, 2, 2)
    planted = batch.contact[:, 1:] * batch.contact[:, :-1] * _pairs(batch.valid)[..., None]
    return _masked_mean(((speed / scales.contact_speed) ** 2).mean(-1), planted)


def smooth_motion(joints: torch.Tensor, batch: Batch, scales: Scales) -> tuple[torch.Tensor, torch.Tensor]:
    """(root, all joints) acceleration in units of a walker's: the motion prior that also fills the gaps."""
    acceleration = (joints[:, 2:] - 2 * joints[:, 1:-1] + joints[:, :-2]) * batch.fps**2  # (P, T - 2, 24, 3)
    weights = _triples(batch.valid)
    root = _masked_mean(((acceleration[:, :, PELVIS] / scales.root_acceleration) ** 2).sum(-1), weights)
    normal = joints.new_full((joints.shape[2], 1), scales.joint_acceleration)
    normal[_ARMS] = scales.arm_acceleration
    every = _masked_mean(((acceleration / normal) ** 2).sum(-1).mean(-1), weights)
    return root, every


def bounded_speed(joints: torch.Tensor, max_speed: float, batch: Batch, scales: Scales) -> torch.Tensor:
    """The pelvis never moves faster than a person in a crowd can: a bound on every pair of frames.

    Summed over the pairs, not averaged like the other terms: a mean lets a long track dilute one frame's
    jump (on a 100-frame track a 0.2 m/s overshoot cost 1 % of what it costs here), and a bound that
    binds less the longer someone is seen is no bound. Measured on the street clip (docs/motion.md).
    """
    speed = (joints[:, 1:, PELVIS] - joints[:, :-1, PELVIS]).norm(dim=-1) * batch.fps
    return ((torch.relu(speed - max_speed) / scales.overspeed) ** 2 * _pairs(batch.valid)).sum(dim=1)


def hinge_limits(local: torch.Tensor, batch: Batch, scales: Scales, allowance: float) -> torch.Tensor:
    """Knees and elbows turn about their hinge axis only, and bend backwards no more than ``allowance`` rad."""
    axes = local.new_tensor(list(SMPL_HINGE_AXES.values()))  # (H, 3)
    across = axes[:, [1, 2, 0]]  # a unit vector perpendicular to each axis
    hinges = take(local, 2, list(SMPL_HINGE_AXES))  # (P, T, H, 3, 3)
    twist = ((hinges @ axes[..., None])[..., 0] - axes).norm(dim=-1) / scales.hinge_twist
    # sin of the bend about the axis: (across x R across) . axis, which is (R across) . (axis x across)
    bend = ((hinges @ across[..., None])[..., 0] * torch.linalg.cross(axes, across)).sum(-1)
    backwards = torch.relu(-bend - float(np.sin(allowance))) / scales.hyperextension
    return _masked_mean((twist**2 + backwards**2).mean(-1), batch.valid.float())
