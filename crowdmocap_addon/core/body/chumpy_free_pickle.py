"""Read the official SMPL ``.pkl`` files without chumpy.

The released files are Python 2 pickles whose ``shapedirs`` (and, in some releases, other arrays) are
``chumpy.ch.Ch`` objects and whose ``J_regressor`` is a ``scipy.sparse.csc_matrix``. chumpy does not
import on Python 3.11+, and Blender ships no scipy, so this unpickler resolves exactly the classes those
files use to plain NumPy and refuses every other global: an untrusted pickle cannot run code through it.
"""

from __future__ import annotations

import copyreg
import importlib
import pickle
from typing import Any, BinaryIO

import numpy as np


class ChumpyArray:
    """Stand-in for ``chumpy.ch.Ch``: keeps the wrapped array ``x`` of a plain (non-expression) Ch."""

    def __setstate__(self, state: Any) -> None:
        values = state.get("x") if isinstance(state, dict) else None
        if not isinstance(values, np.ndarray):
            raise pickle.UnpicklingError(
                "a chumpy object in this file is an expression, not a plain array; "
                "convert the file with chumpy installed (Python 2.7/3.8) or use the official .npz release"
            )
        self.array = values


class SparseCscMatrix:
    """Stand-in for ``scipy.sparse.csc_matrix``: rebuilds the dense array from data/indices/indptr."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("a sparse matrix in this file has no readable state")
        try:
            data = np.asarray(state["data"], dtype=np.float64)
            indices = np.asarray(state["indices"], dtype=np.int64)
            indptr = np.asarray(state["indptr"], dtype=np.int64)
            rows, cols = (int(n) for n in state.get("_shape", state.get("shape")))
        except (KeyError, TypeError, ValueError) as exc:
            raise pickle.UnpicklingError(f"a sparse matrix in this file is incomplete: {exc}") from exc
        if indptr.shape != (cols + 1,) or indices.shape != data.shape or (indices.size and indices.max() >= rows):
            raise pickle.UnpicklingError("a sparse matrix in this file has inconsistent index arrays")
        dense = np.zeros((rows, cols))
        for col in range(cols):
            start, stop = indptr[col], indptr[col + 1]
            dense[indices[start:stop], col] = data[start:stop]
        self.array = dense


def _numpy_global(module: str, name: str) -> Any:
    # numpy 2 renamed numpy.core to numpy._core; old pickles name the former.
    modern = module.replace("numpy.core", "numpy._core", 1)
    try:
        return getattr(importlib.import_module(modern), name)
    except ImportError:
        return getattr(importlib.import_module(module), name)


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"refusing to decode bytes with codec {encoding!r}")
    return text.encode("latin1")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("chumpy.ch", "Ch"): ChumpyArray,
    ("scipy.sparse.csc", "csc_matrix"): SparseCscMatrix,
    ("scipy.sparse._csc", "csc_matrix"): SparseCscMatrix,
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
    ("copyreg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "set"): set,
    ("builtins", "set"): set,
    # Protocol-2 pickles written by Python 3 wrap raw bytes (array buffers) as codecs.encode(text, "latin1").
    ("_codecs", "encode"): _latin1_bytes,
}
_NUMPY_NAMES = {"_reconstruct", "scalar", "ndarray", "dtype", "_frombuffer"}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that knows only NumPy arrays, chumpy arrays and CSC matrices."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if (
            module
            in {"numpy", "numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric"}
            and name in _NUMPY_NAMES
        ):
            return _numpy_global(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not part of an SMPL model file")


def _plain(value: Any) -> Any:
    return value.array if isinstance(value, ChumpyArray | SparseCscMatrix) else value


def load_pickle_without_chumpy(stream: BinaryIO) -> dict[str, Any]:
    """Unpickle an SMPL model dict, with chumpy and sparse values turned into NumPy arrays."""
    data = RestrictedUnpickler(stream, encoding="latin1").load()
    if not isinstance(data, dict):
        raise pickle.UnpicklingError(f"expected a dict of arrays, found {type(data).__name__}")
    return {str(key): _plain(value) for key, value in data.items()}
