"""Per-person rest meshes bound to that person's own rest skeleton, as plain arrays.

A body source gives one topology and one set of skinning weights for everyone, and a rest shape per
person in SMPL's rest frame. When the source's own joints differ from the person's ``rest_joints`` (the
stand-in body, or an SMPL file other than the one the result was made with), each vertex is moved by the
weighted displacement of its joints, ``v + Σ_j w_j (J_target_j − J_own_j)``, so it follows the skeleton
it is skinned to; with matching joints this changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..core.body.smpl_file import SmplModelData
from ..core.body.standin import StandinBody
from ..core.joints import NUM_JOINTS
from ..core.result.schema import CapturedPerson

MIN_WEIGHT = 1e-6  # below this a vertex is left out of a joint's vertex group


def bind_to_skeleton(
    vertices: np.ndarray, weights: np.ndarray, own_joints: np.ndarray, target_joints: np.ndarray
) -> np.ndarray:
    """(V, 3) rest vertices skinned to (24, 3) own joints -> (V, 3) rest vertices for (24, 3) target joints."""
    shift = np.asarray(target_joints, dtype=np.float64) - np.asarray(own_joints, dtype=np.float64)  # (24, 3)
    return np.asarray(vertices, dtype=np.float64) + np.asarray(weights, dtype=np.float64) @ shift


def vertex_group_entries(weights: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(V, 24) weights -> per joint, (vertex indices, weights) of the vertices it moves."""
    dense = np.asarray(weights, dtype=np.float64)
    if dense.ndim != 2 or dense.shape[1] != NUM_JOINTS:
        raise ValueError(f"weights must be (V, {NUM_JOINTS}), got {dense.shape}")
    entries = []
    for joint in range(NUM_JOINTS):
        rows = np.flatnonzero(dense[:, joint] > MIN_WEIGHT)
        entries.append((rows, dense[rows, joint]))
    return entries


@dataclass(frozen=True)
class SmplBodies:
    """The user's SMPL model: each person's betas baked into the rest mesh (v_template + shapedirs · betas)."""

    model: SmplModelData

    @property
    def kind(self) -> str:
        return "smpl"

    @property
    def faces(self) -> np.ndarray:
        return self.model.faces

    @property
    def weights(self) -> np.ndarray:
        return self.model.weights

    def rest_vertices(self, track: CapturedPerson) -> np.ndarray:
        """(V, 3) the person's shaped rest mesh, bound to their rest_joints."""
        shaped = self.model.shaped_vertices(track.betas)
        return bind_to_skeleton(shaped, self.model.weights, self.model.j_regressor @ shaped, track.rest_joints)

    def joint_mismatch(self, track: CapturedPerson) -> float:
        """Largest distance (metres) between the model's joints for these betas and the result's rest_joints."""
        own = self.model.rest_joints(track.betas)
        return float(np.linalg.norm(own - np.asarray(track.rest_joints, dtype=np.float64), axis=1).max())


@dataclass(frozen=True)
class StandinBodies:
    """CrowdMocap's stand-in body, scaled to each person's size and bound to their rest skeleton."""

    body: StandinBody

    @property
    def kind(self) -> str:
        return "standin"

    @property
    def faces(self) -> np.ndarray:
        return self.body.faces

    @cached_property
    def weights(self) -> np.ndarray:
        return self.body.dense_weights()

    def rest_vertices(self, track: CapturedPerson) -> np.ndarray:
        """(V, 3) the stand-in scaled to the person, then moved onto their exact rest_joints."""
        scaled = self.body.scaled_to(track.rest_joints)
        return bind_to_skeleton(scaled.vertices, scaled.dense_weights(), scaled.rest_joints, track.rest_joints)


BodySource = SmplBodies | StandinBodies
