"""The joint sets 3DCrowdNet uses, the 2D pose sets we accept, and the GCN adjacency.

Input keypoints are copied into 3DCrowdNet's 30-joint superset by name; joints the input lacks stay
zero and are masked. Pelvis and neck are synthesised from the hips and shoulders (mean position,
product of confidences) when the input set has none, as the release does for COCO.
"""

from __future__ import annotations

from functools import cache

import numpy as np

JOINTS30: tuple[str, ...] = (
    "Pelvis", "L_Hip", "R_Hip", "Torso", "L_Knee", "R_Knee", "Spine", "L_Ankle", "R_Ankle", "Chest",
    "L_Toe", "R_Toe", "Neck", "L_Thorax", "R_Thorax", "Head", "L_Shoulder", "R_Shoulder", "L_Elbow",
    "R_Elbow", "L_Wrist", "R_Wrist", "L_Hand", "R_Hand", "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear",
    "Head_top",
)  # fmt: skip
GRAPH15: tuple[str, ...] = (
    "Pelvis", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle", "Neck", "Head_top",
    "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist",
)  # fmt: skip
GRAPH_SKELETON = (
    (0, 1), (1, 3), (3, 5), (0, 2), (2, 4), (4, 6), (0, 7), (7, 8), (7, 9), (9, 11), (11, 13), (7, 10),
    (10, 12), (12, 14),
)  # fmt: skip
GRAPH_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (9, 10), (11, 12), (13, 14))

_COCO17 = (
    "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear", "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow",
    "L_Wrist", "R_Wrist", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle",
)  # fmt: skip
_OPENPOSE18 = (
    "Nose", "Neck", "R_Shoulder", "R_Elbow", "R_Wrist", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Hip",
    "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "R_Eye", "L_Eye", "R_Ear", "L_Ear",
)  # fmt: skip
# Joints whose names 3DCrowdNet does not know (MidHip, feet, Halpe's mid-hip) are carried but unmapped:
# the pelvis is always re-synthesised from the hips, as in training and the release's evaluation.
INPUT_JOINT_SETS: dict[str, tuple[str, ...]] = {
    "coco17": _COCO17,
    "openpose_coco18": _OPENPOSE18,
    "openpose_body25": _OPENPOSE18[:8] + ("MidHip",) + _OPENPOSE18[8:] + (
        "L_BigToe", "L_SmallToe", "L_Heel", "R_BigToe", "R_SmallToe", "R_Heel"),
    "crowdpose14": (
        "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist", "L_Hip", "R_Hip",
        "L_Knee", "R_Knee", "L_Ankle", "R_Ankle", "Head_top", "Neck",
    ),
    "halpe26": _COCO17 + ("Head_top", "Neck", "MidHip", "L_BigToe", "R_BigToe", "L_SmallToe",
                          "R_SmallToe", "L_Heel", "R_Heel"),
}  # fmt: skip


class UnknownJointSetError(ValueError):
    """The caller named a 2D joint set CrowdMocap does not know."""


def _synthesised(names: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(new joint, left source, right source) for the joints the input set lacks."""
    extra = [("Pelvis", "L_Hip", "R_Hip")]
    if "Neck" not in names:
        extra.append(("Neck", "L_Shoulder", "R_Shoulder"))
    return extra


def to_superset(keypoints: np.ndarray, joint_set: str = "coco17") -> np.ndarray:
    """(..., K, 3) x, y, confidence in one input set -> (..., 30, 3) in 3DCrowdNet's superset.

    Unmapped superset joints are all-zero (so invalid). Synthesised joints get the mean position and
    the product of the two confidences.
    """
    if joint_set not in INPUT_JOINT_SETS:
        raise UnknownJointSetError(
            f"unknown 2D joint set {joint_set!r}; known sets: {', '.join(sorted(INPUT_JOINT_SETS))}"
        )
    names = INPUT_JOINT_SETS[joint_set]
    points = np.asarray(keypoints, dtype=np.float64)
    if points.shape[-2:] != (len(names), 3):
        raise ValueError(f"{joint_set} keypoints must have shape (..., {len(names)}, 3), got {points.shape}")
    out = np.zeros(points.shape[:-2] + (len(JOINTS30), 3))
    index = {name: i for i, name in enumerate(names)}
    for name, i in index.items():
        if name in JOINTS30:
            out[..., JOINTS30.index(name), :] = points[..., i, :]
    for new, left, right in _synthesised(names):
        a, b = points[..., index[left], :], points[..., index[right], :]
        target = out[..., JOINTS30.index(new), :]
        target[..., :2] = (a[..., :2] + b[..., :2]) / 2
        target[..., 2] = a[..., 2] * b[..., 2]
    return out


@cache
def graph_adjacency() -> np.ndarray:
    """(15, 15) normalised adjacency D^-1/2 (A + I) D^-1/2 over skeleton edges and left/right pairs."""
    adj = np.eye(len(GRAPH15))
    for a, b in GRAPH_SKELETON + GRAPH_FLIP_PAIRS:
        adj[a, b] = adj[b, a] = 1.0
    inv_sqrt_degree = 1.0 / np.sqrt(adj.sum(axis=0))
    normalised = inv_sqrt_degree[:, None] * adj * inv_sqrt_degree[None, :]
    normalised.flags.writeable = False  # cached and shared: nobody may change it
    return normalised
