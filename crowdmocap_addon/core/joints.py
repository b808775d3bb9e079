"""Joint vocabularies: SMPL's 24-joint tree and COCO's 17 keypoints, with the named groups code needs.

One place for every index table (legs, ankles, limbs, left/right mirrors, the drawn skeleton), so a
group means one thing everywhere: code asks for ``SMPL_LEGS[side].ankle``, never for a bare ``(1, 4, 7)``.
Sides are always ordered left, right (the result's ``foot_contact`` columns).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee",
    "spine2", "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot",
    "neck", "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip
NUM_JOINTS = 24
NUM_BODY_JOINTS = 23  # every joint but the pelvis, whose rotation is global_orient
# PARENTS[i] is the parent of joint i; -1 marks the root. Parents always come before children.
PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
SMPL = {name: index for index, name in enumerate(JOINT_NAMES)}

COCO_KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
NUM_KEYPOINTS = len(COCO_KEYPOINT_NAMES)
COCO = {name: index for index, name in enumerate(COCO_KEYPOINT_NAMES)}
SIDES = ("left", "right")


class Leg(NamedTuple):
    """One SMPL leg chain, hip to toes."""

    hip: int
    knee: int
    ankle: int
    foot: int


class Limb(NamedTuple):
    """One limb: its SMPL joints (root of the limb first) and the COCO keypoints that observe it."""

    joints: tuple[int, ...]
    keypoints: tuple[int, ...]


SMPL_LEGS: tuple[Leg, Leg] = tuple(
    Leg(SMPL[f"{s}_hip"], SMPL[f"{s}_knee"], SMPL[f"{s}_ankle"], SMPL[f"{s}_foot"]) for s in SIDES
)  # type: ignore[assignment]
SMPL_ANKLES: tuple[int, int] = tuple(leg.ankle for leg in SMPL_LEGS)  # type: ignore[assignment]
# Each side's foot joints (ankle, toes): what touches the floor.
SMPL_FEET: tuple[tuple[int, int], tuple[int, int]] = tuple((leg.ankle, leg.foot) for leg in SMPL_LEGS)  # type: ignore[assignment]
SMPL_LIMBS: tuple[Limb, ...] = (
    *(Limb(tuple(SMPL[f"{s}_{j}"] for j in ("shoulder", "elbow", "wrist", "hand")),
           tuple(COCO[f"{s}_{k}"] for k in ("shoulder", "elbow", "wrist"))) for s in SIDES),
    *(Limb(tuple(SMPL[f"{s}_{j}"] for j in ("hip", "knee", "ankle", "foot")),
           tuple(COCO[f"{s}_{k}"] for k in ("hip", "knee", "ankle"))) for s in SIDES),
)  # fmt: skip
COCO_ANKLES: tuple[int, int] = (COCO["left_ankle"], COCO["right_ankle"])
# The hinges (knees, elbows): the axis, in SMPL's rest frame, about which each bends the way it should
# (a positive angle); T-pose elbows bend forward about -y (left) and +y (right), knees about +x.
SMPL_HINGE_AXES: dict[int, tuple[float, float, float]] = {
    SMPL["left_knee"]: (1.0, 0.0, 0.0),
    SMPL["right_knee"]: (1.0, 0.0, 0.0),
    SMPL["left_elbow"]: (0.0, -1.0, 0.0),
    SMPL["right_elbow"]: (0.0, 1.0, 0.0),
}
# SMPL joints a COCO keypoint observes directly (same place on the body): SMPL joint -> COCO keypoint.
SMPL_TO_COCO: dict[int, int] = {
    SMPL[f"{s}_{part}"]: COCO[f"{s}_{part}"]
    for s in SIDES
    for part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
}


def _mirror(names: tuple[str, ...]) -> np.ndarray:
    """Index i -> the index of its left/right partner (itself on the midline)."""
    swapped = (n.replace("left", "#").replace("right", "left").replace("#", "right") for n in names)
    return np.array([names.index(n) for n in swapped])


SMPL_MIRROR = _mirror(JOINT_NAMES)
COCO_MIRROR = _mirror(COCO_KEYPOINT_NAMES)
# The bones drawn between COCO keypoints (the COCO dataset's own skeleton, 0-based).
COCO_SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9), (8, 10),
    (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip
