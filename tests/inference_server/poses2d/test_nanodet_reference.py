"""The TF.js -> ONNX translation of the real NanoDet-g graph equals TensorFlow's own run of it.

The fixture (``tests/data/nanodet_g_reference.npz``) was recorded once by ``scripts/nanodet_reference.py``
with TensorFlow; here the model is rebuilt from the fetched ``nanodet.json``/``.bin`` without TensorFlow.
``make test`` fetches them first (``crowdmocap-server models fetch nanodet-g --if-missing``).
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from inference_server.footage.reader import open_footage
from inference_server.model_files.catalogue import find_spec
from inference_server.poses2d import nanodet
from tests.conftest import FETCHED_MODELS

pytest.importorskip("onnx")
REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "data" / "nanodet_g_reference.npz"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def fetched() -> Path:
    folder = FETCHED_MODELS / find_spec("nanodet-g").folder
    if not ((folder / nanodet.MODEL_JSON).is_file() and (folder / nanodet.MODEL_BIN).is_file()):
        pytest.skip(f"NanoDet-g is not fetched into {folder}: run `crowdmocap-server models fetch nanodet-g`")
    return folder


def test_translation_matches_tensorflow(tmp_path, fetched):
    for name in (nanodet.MODEL_JSON, nanodet.MODEL_BIN):
        (tmp_path / name).symlink_to(fetched / name)
    detector = nanodet.NanoDetDetector(nanodet.build_model(tmp_path))  # built afresh, not the fetched .onnx
    reference = np.load(FIXTURE)
    frame = next(iter(open_footage(REPO / "tests" / "data" / "vtest_first10s.avi").frames())).image
    blob, _ = nanodet.stretched(frame)  # the reference recipe; the detector itself letterboxes
    assert hashlib.sha256(blob.tobytes()).hexdigest() == str(reference["input_sha256"]), (
        f"the input differs from the one recorded ({reference['recipe']}): decoder or OpenCV changed"
    )
    scores, distributions = detector.raw(blob)
    score_error = np.abs(scores[:, nanodet.PERSON] - reference["person_scores"]).max()
    distribution_error = np.abs(distributions[reference["cells"]] - reference["distributions"]).max()
    assert score_error <= TOLERANCE and distribution_error <= TOLERANCE, (score_error, distribution_error)
    assert reference["person_scores"].max() > 0.5  # the fixture holds real people, not an all-zero output
