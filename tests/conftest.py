"""Shared fixtures and the marker rules.

``blender`` tests need ``bpy``: skipped where it is absent, except under ``CROWDMOCAP_REQUIRE_BPY=1``
(set by ``make test``), where a missing bpy fails the run instead of silently skipping it.
``gpu`` tests are skipped without CUDA.

Captures in tests are hermetic: the models folder is an empty one for the whole session, so no test
depends on what a developer happens to have fetched. The few tests about the embedded models that
``make`` fetches (NanoDet-g) ask for ``FETCHED_MODELS``, the folder they were fetched into.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from inference_server.model_files.folder import ENV_VAR, models_dir
from tests.helpers import synthetic_smpl
from tests.helpers.captures import make_capture

REPO = Path(__file__).resolve().parent.parent
FETCHED_MODELS = models_dir()  # read before the session empties it (see pytest_configure)


def pytest_configure(config: pytest.Config) -> None:
    empty = Path(tempfile.mkdtemp(prefix="crowdmocap-no-models-"))
    config.add_cleanup(lambda: shutil.rmtree(empty, ignore_errors=True))
    os.environ[ENV_VAR] = str(empty)  # inherited by the CLI and server processes tests start


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    have_bpy = importlib.util.find_spec("bpy") is not None
    require_bpy = os.environ.get("CROWDMOCAP_REQUIRE_BPY") == "1"
    if not have_bpy and require_bpy and any("blender" in item.keywords for item in items):
        raise pytest.UsageError("CROWDMOCAP_REQUIRE_BPY=1 but bpy is not importable in this environment")
    need_gpu = any("gpu" in item.keywords for item in items)
    have_gpu = need_gpu and _cuda_available()
    for item in items:
        if "blender" in item.keywords and not have_bpy:
            item.add_marker(pytest.mark.skip(reason="bpy (Blender as a Python module) is not installed"))
        if "gpu" in item.keywords and not have_gpu:
            item.add_marker(pytest.mark.skip(reason="no CUDA device"))


@pytest.fixture
def smpl_npz(tmp_path: Path) -> Path:
    """A synthetic SMPL model as a plain ``.npz``."""
    return synthetic_smpl.write_npz(tmp_path / "SMPL_NEUTRAL.npz")


@pytest.fixture
def smpl_official_pkl(tmp_path: Path) -> Path:
    """A synthetic SMPL model laid out like the official chumpy ``.pkl``."""
    return synthetic_smpl.write_official_pkl(tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl")


@pytest.fixture
def capture():
    return make_capture()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._crowdmocap_exitstatus = int(exitstatus)  # read back in pytest_unconfigure


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without running C++ static destructors once bpy is loaded.

    Blender 4.5's delayed file-close thread can still wait on a condition variable that a static
    destructor destroys at process exit, and the process then hangs forever after the last test
    (observed here; the report is already written when this hook runs).
    """
    import sys

    if "bpy" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(getattr(config, "_crowdmocap_exitstatus", 0))
