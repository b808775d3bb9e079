"""An armature's rest layout and Blender's pose evaluation, in NumPy.

Blender poses bone b as ``P_b = P_parent · (Rest_parent⁻¹ · Rest_b) · Basis_b`` in armature space, where
Rest is the bone's ``matrix_local`` and Basis = [R | loc] its pose channels (scale 1 here). A bone that
does not inherit rotation keeps its rest orientation in armature space and only follows its parent's
position. A bone whose only constraint is a full Copy Transforms from another bone of the armature (world
or pose space: Rigify's ORG bones following their controls) takes that bone's pose. Other constraints are
not modelled. Solving for a bone's Basis given a wanted P_b (``local_rotation``) is the formula backwards.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class Skeleton:
    """One armature: bones in an order where every parent comes before its children."""

    names: tuple[str, ...]
    parents: tuple[int, ...]  # index of the parent bone, -1 for a root
    rest: np.ndarray  # (B, 4, 4) armature-space rest matrices (Blender's bone.matrix_local)
    object_matrix: np.ndarray  # (4, 4) the armature object's world matrix
    inherit_rotation: tuple[bool, ...] = ()  # empty means every bone inherits its parent's rotation
    copies: tuple[int, ...] = ()  # per bone: the bone whose pose it copies (Copy Transforms), -1 none; empty: none

    def __post_init__(self) -> None:
        count = len(self.names)
        if len(self.parents) != count or np.shape(self.rest) != (count, 4, 4):
            raise ValueError(f"{count} names need {count} parents and (B, 4, 4) rest matrices")
        if any(parent >= index for index, parent in enumerate(self.parents)):
            raise ValueError("parents must come before their children")
        if self.inherit_rotation and len(self.inherit_rotation) != count:
            raise ValueError("inherit_rotation needs one flag per bone")
        if self.copies and (len(self.copies) != count or any(s >= i for i, s in enumerate(self.copies))):
            raise ValueError("copies needs one entry per bone, each copying a bone that comes before it")

    def copied_from(self, bone: int) -> int:
        """The bone whose pose ``bone`` takes, or -1."""
        return self.copies[bone] if self.copies else -1

    def index(self, name: str) -> int:
        return self.names.index(name)

    def inherits(self, bone: int) -> bool:
        return not self.inherit_rotation or self.inherit_rotation[bone]

    def relative_rest(self, bone: int) -> np.ndarray:
        """(4, 4) the bone's rest matrix in its parent's rest frame (its own rest matrix for a root)."""
        return self._relative_rests[bone]

    @functools.cached_property
    def _relative_rests(self) -> np.ndarray:
        """(B, 4, 4) every bone's ``relative_rest``, computed once (solves call it per bone and frame block)."""
        out = np.array(self.rest, dtype=np.float64)
        for bone, parent in enumerate(self.parents):
            if parent >= 0:
                out[bone] = np.linalg.inv(self.rest[parent]) @ self.rest[bone]
        return out

    def ancestors(self, bone: int) -> list[int]:
        """Parent, grandparent, ... up to the root."""
        out = []
        parent = self.parents[bone]
        while parent >= 0:
            out.append(parent)
            parent = self.parents[parent]
        return out

    def world_rest(self) -> np.ndarray:
        """(B, 4, 4) rest matrices in world space."""
        return self.object_matrix @ self.rest


def topological_order(parents: Sequence[int], copies: Sequence[int] = ()) -> list[int]:
    """Indices of bones so that parents (and the bones they copy) come first, otherwise in the given order."""
    needs = [[p for p in (parent, copies[bone] if copies else -1) if p >= 0] for bone, parent in enumerate(parents)]
    users: dict[int, list[int]] = {}
    for bone, deps in enumerate(needs):
        for dep in deps:
            users.setdefault(dep, []).append(bone)
    waiting = [len(deps) for deps in needs]
    ready = [bone for bone, count in enumerate(waiting) if count == 0]
    order: list[int] = []
    while ready:
        bone = ready.pop(0)
        order.append(bone)
        for user in users.get(bone, []):
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    if len(order) != len(parents):
        raise ValueError("the bone hierarchy has a cycle or a parent outside the armature")
    return order


def parent_frame(skeleton: Skeleton, bone: int, pose: np.ndarray) -> np.ndarray:
    """(T, 4, 4) the frame a bone's Basis is applied in: P_parent · Rest_rel, with the rest orientation kept
    for bones that do not inherit rotation. ``pose`` (T, B, 4, 4) must hold the parent's posed matrices."""
    rel = skeleton.relative_rest(bone)
    parent = skeleton.parents[bone]
    if parent < 0:
        return np.broadcast_to(rel, (pose.shape[0], 4, 4)).copy()
    frame = np.empty((pose.shape[0], 4, 4))
    frame[:, 3] = (0.0, 0.0, 0.0, 1.0)
    if skeleton.inherits(bone):
        frame[:, :3, :3] = pose[:, parent, :3, :3] @ rel[:3, :3]
    else:
        frame[:, :3, :3] = skeleton.rest[bone, :3, :3]
    frame[:, :3, 3] = pose[:, parent, :3, :3] @ rel[:3, 3] + pose[:, parent, :3, 3]
    return frame


def basis_matrices(rotations: np.ndarray, locations: np.ndarray) -> np.ndarray:
    """(..., 3, 3) and (..., 3) -> (..., 4, 4) [R | loc] pose-channel matrices."""
    out = np.zeros((*rotations.shape[:-2], 4, 4))
    out[..., :3, :3] = rotations
    out[..., :3, 3] = locations
    out[..., 3, 3] = 1.0
    return out


def pose_matrices(skeleton: Skeleton, rotations: np.ndarray, locations: np.ndarray | None = None) -> np.ndarray:
    """Forward kinematics: (T, B, 3, 3) Basis rotations and (T, B, 3) locations -> (T, B, 4, 4) armature space."""
    frames, count = rotations.shape[:2]
    locs = np.zeros((frames, count, 3)) if locations is None else np.asarray(locations, dtype=np.float64)
    basis = basis_matrices(np.asarray(rotations, dtype=np.float64), locs)
    pose = np.empty((frames, count, 4, 4))
    for bone in range(count):
        source = skeleton.copied_from(bone)
        if source >= 0:
            pose[:, bone] = pose[:, source]
        else:
            pose[:, bone] = apply_basis(parent_frame(skeleton, bone, pose), basis[:, bone])
    return pose


def apply_basis(frame: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """(T, 4, 4) frame · (T, 4, 4) rigid [R | loc]: the 3 × 3 and translation parts only (the last row is fixed)."""
    out = np.empty_like(frame)
    out[:, 3] = (0.0, 0.0, 0.0, 1.0)
    out[:, :3, :3] = frame[:, :3, :3] @ basis[:, :3, :3]
    out[:, :3, 3] = np.einsum("tij,tj->ti", frame[:, :3, :3], basis[:, :3, 3]) + frame[:, :3, 3]
    return out


def local_rotation(frame: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """(T, 4, 4) parent frame and (T, 3, 3) wanted armature-space rotation -> (T, 3, 3) Basis rotation."""
    return np.swapaxes(frame[:, :3, :3], -1, -2) @ wanted


def local_location(frame: np.ndarray, wanted_head: np.ndarray) -> np.ndarray:
    """(T, 4, 4) parent frame and (T, 3) wanted armature-space head -> (T, 3) Basis location."""
    rot = frame[:, :3, :3]
    return np.einsum("tji,tj->ti", rot, wanted_head - frame[:, :3, 3])
