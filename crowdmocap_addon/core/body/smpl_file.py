"""Find, read, check and convert SMPL model files (official ``.pkl`` or plain ``.npz``).

SMPL is licence-gated: the user downloads it, CrowdMocap never ships it. So every failure here says
which file was expected, where we looked, and where to get it.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..joints import NUM_JOINTS, PARENTS
from .chumpy_free_pickle import load_pickle_without_chumpy

GENDERS = ("neutral", "male", "female")
NUM_POSE_BASIS = 207  # 23 joints x 9 entries of (R - I)

SMPL_DOWNLOAD = {
    "neutral": "https://smplify.is.tue.mpg.de (SMPLify download: basicModel_neutral_lbs_10_207_0_v1.0.0.pkl)",
    "male": "https://smpl.is.tue.mpg.de (SMPL for Python: basicmodel_m_lbs_10_207_0_v1.1.0.pkl)",
    "female": "https://smpl.is.tue.mpg.de (SMPL for Python: basicmodel_f_lbs_10_207_0_v1.1.0.pkl)",
}
_GENDER_TAGS = {"neutral": ("neutral",), "male": ("m", "male"), "female": ("f", "female")}


class SmplModelError(Exception):
    """An SMPL model file is missing, unreadable or not an SMPL model."""


class SmplModelNotFoundError(SmplModelError, FileNotFoundError):
    """No SMPL model file where the user pointed."""


def candidate_file_names(gender: str) -> list[str]:
    """File names an SMPL model of this gender is commonly saved under, most specific first."""
    if gender not in GENDERS:
        raise SmplModelError(f"unknown SMPL gender {gender!r}; expected one of {', '.join(GENDERS)}")
    upper = gender.upper()
    names = [f"SMPL_{upper}.npz", f"SMPL_{upper}.pkl", f"smpl_{gender}.npz", f"smpl_{gender}.pkl"]
    for tag in _GENDER_TAGS[gender]:
        for version in ("v1.1.0", "v1.0.0"):
            names += [f"basicmodel_{tag}_lbs_10_207_0_{version}.pkl", f"basicModel_{tag}_lbs_10_207_0_{version}.pkl"]
    return names


def find_smpl_model(path: str | Path, gender: str = "neutral") -> Path:
    """Resolve a user-given file or folder to an SMPL model file of the given gender.

    A folder is searched (and its ``smpl/`` subfolder, the smplx layout) for the usual file names.
    """
    given = Path(path).expanduser()
    if given.is_file():
        return given
    folders = [given, given / "smpl", given / "models" / "smpl"] if given.is_dir() else []
    looked = [folder / name for folder in folders for name in candidate_file_names(gender)]
    for candidate in looked:
        if candidate.is_file():
            return candidate
    where = f"looked in {', '.join(str(f) for f in folders)}" if folders else f"{given} does not exist"
    raise SmplModelNotFoundError(
        f"No SMPL {gender} model file found ({where}). Expected a file such as "
        f"{candidate_file_names(gender)[0]} or {candidate_file_names(gender)[4]}. "
        f"Get it from {SMPL_DOWNLOAD[gender]} after registering (non-commercial licence), then point "
        "CrowdMocap at the file or its folder."
    )


@dataclass(kw_only=True, frozen=True)
class SmplModelData:
    """The arrays of an SMPL model, as float64/int64 NumPy, with SMPL's own names in comments."""

    v_template: np.ndarray  # (V, 3) mean-shape rest vertices, metres, y up
    shapedirs: np.ndarray  # (V, 3, B) shape blend shapes
    posedirs: np.ndarray  # (V, 3, 207) pose blend shapes
    j_regressor: np.ndarray  # (24, V) J_regressor, dense
    weights: np.ndarray  # (V, 24) skinning weights
    faces: np.ndarray  # (F, 3) f
    gender: str
    source: Path

    @property
    def num_betas(self) -> int:
        return int(self.shapedirs.shape[2])

    def shaped_vertices(self, betas: np.ndarray) -> np.ndarray:
        """(B',) betas (B' <= B, missing ones are zero) -> (V, 3) rest vertices of that shape."""
        betas = np.asarray(betas, dtype=np.float64).reshape(-1)
        count = min(betas.size, self.num_betas)
        return self.v_template + self.shapedirs[:, :, :count] @ betas[:count]

    def rest_joints(self, betas: np.ndarray) -> np.ndarray:
        """(B',) betas -> (24, 3) rest joint locations: J_regressor applied to the shaped vertices."""
        return self.j_regressor @ self.shaped_vertices(betas)

    def official_arrays(self) -> dict[str, np.ndarray]:
        """The arrays under their official names, as smplx and the ``.npz`` release expect them."""
        kintree = np.array(
            [[np.iinfo(np.uint32).max if p < 0 else p for p in PARENTS], range(NUM_JOINTS)], dtype=np.int64
        )
        return {
            "v_template": self.v_template, "shapedirs": self.shapedirs, "posedirs": self.posedirs,
            "J_regressor": self.j_regressor, "weights": self.weights, "kintree_table": kintree,
            "f": self.faces,
        }  # fmt: skip


def _read_arrays(path: Path) -> dict[str, object]:
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        with path.open("rb") as stream:
            return load_pickle_without_chumpy(stream)
    except FileNotFoundError as exc:
        raise SmplModelNotFoundError(f"SMPL model file {path} does not exist") from exc
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise SmplModelError(f"{path} is not a readable SMPL model file: {exc}") from exc


def _array(arrays: dict[str, object], key: str, path: Path, dtype: type) -> np.ndarray:
    if key not in arrays:
        raise SmplModelError(f"{path} is not an SMPL model: it has no '{key}' array (found: {sorted(arrays)})")
    try:
        value = np.asarray(arrays[key], dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise SmplModelError(f"{path}: '{key}' is not numeric: {exc}") from exc
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        raise SmplModelError(f"{path}: '{key}' holds NaN or infinite values")
    return value


def _check_shape(path: Path, key: str, value: np.ndarray, expected: tuple[int | None, ...]) -> None:
    if value.ndim != len(expected) or any(
        e is not None and e != s for e, s in zip(expected, value.shape, strict=False)
    ):
        shown = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        raise SmplModelError(f"{path}: '{key}' has shape {value.shape}, expected {shown}")


def _gender_of(arrays: dict[str, object], path: Path, fallback: str) -> str:
    stored = arrays.get("gender")
    if stored is not None:
        text = str(np.asarray(stored).reshape(-1)[0])
        if text in GENDERS:
            return text
    name = path.name.lower()
    for gender, tags in _GENDER_TAGS.items():
        if any(f"_{tag}_" in name or f"_{tag}." in name for tag in tags):
            return gender
    return fallback


def smpl_model_from_arrays(arrays: dict[str, object], source: Path, gender: str = "neutral") -> SmplModelData:
    """Check arrays under SMPL's official names (from any container) and wrap them as SmplModelData."""
    v_template = _array(arrays, "v_template", source, np.float64)
    _check_shape(source, "v_template", v_template, (None, 3))
    verts = v_template.shape[0]
    shapedirs = _array(arrays, "shapedirs", source, np.float64)
    _check_shape(source, "shapedirs", shapedirs, (verts, 3, None))
    posedirs = _array(arrays, "posedirs", source, np.float64)
    _check_shape(source, "posedirs", posedirs, (verts, 3, NUM_POSE_BASIS))
    j_regressor = _array(arrays, "J_regressor", source, np.float64)
    _check_shape(source, "J_regressor", j_regressor, (NUM_JOINTS, verts))
    weights = _array(arrays, "weights", source, np.float64)
    _check_shape(source, "weights", weights, (verts, NUM_JOINTS))
    faces = _array(arrays, "f", source, np.int64)
    _check_shape(source, "f", faces, (None, 3))
    if faces.size and (faces.min() < 0 or faces.max() >= verts):
        raise SmplModelError(f"{source}: 'f' indexes vertices outside 0..{verts - 1}")
    if "kintree_table" in arrays:  # absent when the arrays come from a 3DCrowdNet checkpoint's buffers
        kintree = _array(arrays, "kintree_table", source, np.int64)
        _check_shape(source, "kintree_table", kintree, (2, NUM_JOINTS))
        parents = tuple(-1 if p < 0 or p >= NUM_JOINTS else int(p) for p in kintree[0])
        if parents != PARENTS or tuple(kintree[1]) != tuple(range(NUM_JOINTS)):
            raise SmplModelError(
                f"{source}: its joint tree is not SMPL's 24-joint tree (SMPL-H/SMPL-X files are not supported)"
            )
    return SmplModelData(
        v_template=v_template,
        shapedirs=shapedirs,
        posedirs=posedirs,
        j_regressor=j_regressor,
        weights=weights,
        faces=faces,
        gender=gender,
        source=source,
    )


def load_smpl_model(path: str | Path, gender: str = "neutral") -> SmplModelData:
    """Read and check an SMPL model file (``.pkl`` official release, or ``.npz``) or a folder holding one."""
    source = find_smpl_model(path, gender)
    arrays = _read_arrays(source)
    if "kintree_table" not in arrays:
        raise SmplModelError(
            f"{source} is not an SMPL model: it has no 'kintree_table' array (found: {sorted(arrays)})"
        )
    return smpl_model_from_arrays(arrays, source, _gender_of(arrays, source, gender))


def save_smpl_npz(model: SmplModelData, out_path: str | Path) -> Path:
    """Write the model as a plain ``.npz`` (no pickle, no chumpy): readable by NumPy anywhere."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = model.official_arrays()
    with out.open("wb") as stream:
        np.savez_compressed(stream, gender=np.array(model.gender), **arrays)
    return out
