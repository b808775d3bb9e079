"""A synthetic SMPL-format model: the real file layout and 24-joint tree, none of the licensed data.

Each joint gets a small box of 8 vertices centred on it; ``J_regressor`` averages a joint's own box,
so with zero betas the rest joints are exactly ``REST_JOINTS`` (which makes hand-computed FK checks
possible). Weights blend each box 80/20 with its parent, shape and pose blend shapes are small and
seeded. ``write_official_pkl`` reproduces the official file's quirks: a protocol-2 pickle whose
``shapedirs`` is a ``chumpy.ch.Ch`` and whose ``J_regressor`` is a ``scipy.sparse.csc_matrix``,
written without chumpy or scipy being installed.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS
from crowdmocap_addon.core.joints import NUM_JOINTS, PARENTS

REST_JOINTS = STANDIN_REST_JOINTS  # the synthetic model is built around the stand-in skeleton
NUM_BETAS = 10
_BOX = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64) * 0.02
_BOX_FACES = np.array([
    [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
    [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3],
])  # fmt: skip


def synthetic_smpl_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """The model's arrays under their official names and shapes (V = 192, F = 288)."""
    rng = np.random.default_rng(seed)
    verts_per_joint = len(_BOX)
    num_verts = NUM_JOINTS * verts_per_joint
    v_template = (REST_JOINTS[:, None, :] + _BOX[None]).reshape(num_verts, 3)
    j_regressor = np.zeros((NUM_JOINTS, num_verts))
    weights = np.zeros((num_verts, NUM_JOINTS))
    for joint in range(NUM_JOINTS):
        box = slice(joint * verts_per_joint, (joint + 1) * verts_per_joint)
        j_regressor[joint, box] = 1.0 / verts_per_joint
        parent = PARENTS[joint]
        weights[box, joint] = 1.0 if parent < 0 else 0.8
        if parent >= 0:
            weights[box, parent] = 0.2
    # Shape 0 scales the body about the floor (taller/shorter); the rest are small seeded offsets.
    shapedirs = rng.normal(scale=0.004, size=(num_verts, 3, NUM_BETAS))
    shapedirs[:, :, 0] = 0.03 * v_template
    posedirs = rng.normal(scale=0.002, size=(num_verts, 3, 207))
    faces = (np.arange(NUM_JOINTS)[:, None, None] * verts_per_joint + _BOX_FACES[None]).reshape(-1, 3)
    kintree = np.array([[np.iinfo(np.uint32).max if p < 0 else p for p in PARENTS], range(NUM_JOINTS)], dtype=np.uint32)
    return {
        "v_template": v_template, "shapedirs": shapedirs, "posedirs": posedirs, "J_regressor": j_regressor,
        "weights": weights, "kintree_table": kintree, "f": faces.astype(np.uint32),
    }  # fmt: skip


def write_npz(path: Path, seed: int = 0, gender: str = "neutral") -> Path:
    np.savez(path, gender=np.array(gender), **synthetic_smpl_arrays(seed))
    return path


class FakeChumpyCh:
    """Pickles like ``chumpy.ch.Ch`` does: NEWOBJ of the class, then its ``__dict__`` minus caches."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self._dirty_vars: set[str] = set()
        self._itr = None
        self._depends_on_deps: dict[str, object] = {}
        self._make_dense = False
        self._make_sparse = False


class FakeCscMatrix:
    """Pickles like an old ``scipy.sparse.csc.csc_matrix``: its ``__dict__`` with data/indices/indptr."""

    def __init__(self, dense: np.ndarray) -> None:
        rows, cols = np.nonzero(dense.T)  # column-major order: "rows" here are columns of dense
        self.data = dense.T[rows, cols]
        self.indices = cols.astype(np.int32)
        self.indptr = np.searchsorted(rows, np.arange(dense.shape[1] + 1)).astype(np.int32)
        self._shape = dense.shape
        self.maxprint = 50


_OFFICIAL_NAMES = {FakeChumpyCh: ("chumpy.ch", "Ch"), FakeCscMatrix: ("scipy.sparse.csc", "csc_matrix")}


class _OfficialStylePickler(pickle._Pickler):  # the pure-Python pickler lets us rename globals
    def save_global(self, obj: object, name: str | None = None) -> None:
        if obj in _OFFICIAL_NAMES:
            module, qualname = _OFFICIAL_NAMES[obj]  # type: ignore[index]
            self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode("ascii"))
            self.memoize(obj)
            return
        super().save_global(obj, name)


def write_official_pkl(path: Path, seed: int = 0) -> Path:
    """Write the model the way the official ``basicModel_*.pkl`` files are laid out."""
    arrays = synthetic_smpl_arrays(seed)
    content: dict[str, object] = dict(arrays)
    content["shapedirs"] = FakeChumpyCh(arrays["shapedirs"])
    content["J_regressor"] = FakeCscMatrix(arrays["J_regressor"])
    content["J"] = REST_JOINTS.copy()
    content["bs_type"] = "lrotmin"
    content["bs_style"] = "lbs"
    with path.open("wb") as stream:
        _OfficialStylePickler(stream, protocol=2).dump(content)
    return path
