"""The armature's rest layout: bone heads at the rest joints, every bone pointing along armature +Y.

With tail = head + (0, length, 0) and roll 0, Blender gives each bone an identity rest rotation in
armature space (SMPL's rest frame), which is what lets pose-bone quaternions be SMPL's local rotations.
Lengths only affect display: the distance to the joint's first child, or for end joints half their
parent bone's length.
"""

from __future__ import annotations

import numpy as np

from ..core.joints import NUM_JOINTS, PARENTS

MIN_BONE_LENGTH = 0.02  # metres; Blender deletes zero-length bones


def bone_lengths(rest_joints: np.ndarray) -> np.ndarray:
    """(24, 3) rest joints -> (24,) display lengths."""
    joints = np.asarray(rest_joints, dtype=np.float64)
    lengths = np.zeros(NUM_JOINTS)
    for joint in range(NUM_JOINTS):
        children = [child for child in range(NUM_JOINTS) if PARENTS[child] == joint]
        if children:
            lengths[joint] = np.linalg.norm(joints[children[0]] - joints[joint])
    for joint in range(NUM_JOINTS):  # parents come first, so an end joint's parent length is final
        if lengths[joint] == 0.0 and PARENTS[joint] >= 0:
            lengths[joint] = 0.5 * lengths[PARENTS[joint]]
    return np.maximum(lengths, MIN_BONE_LENGTH)


def bone_tails(rest_joints: np.ndarray) -> np.ndarray:
    """(24, 3) rest joints -> (24, 3) tails straight up (+Y) from each head."""
    tails = np.array(rest_joints, dtype=np.float64)
    tails[:, 1] += bone_lengths(rest_joints)
    return tails
