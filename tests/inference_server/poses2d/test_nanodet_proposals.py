"""The embedded backend with NanoDet-g proposals finds at least as much of the annotated crowd as with HOG.

Real NanoDet-g (as ``make`` fetches it), real BlazePose, the hand-made ground truth of the first clip.
"""

from __future__ import annotations

import pytest

from inference_server.footage.reader import open_footage
from inference_server.model_files.catalogue import find_spec
from inference_server.poses2d.blazepose import BlazePoseTopDown
from inference_server.tracking.evaluation import Prediction, evaluate, load_ground_truth
from tests.conftest import FETCHED_MODELS, REPO

CLIP = REPO / "tests" / "data" / "vtest_first10s.avi"
TRUTH = REPO / "tests" / "data" / "ground_truth" / "vtest_first10s.json"


def _recall_precision(backend: BlazePoseTopDown) -> tuple[float, float]:
    truth = load_ground_truth(TRUTH)
    predictions = {}
    for frame in open_footage(CLIP).frames():
        if frame.index in truth.frames:
            people = backend(frame.image, frame.index).people
            predictions[frame.index] = [Prediction(box=p.box, track_id=i) for i, p in enumerate(people)]
    scores = evaluate(truth, predictions, 0.3)
    return scores["recall"], scores["precision"]


@pytest.mark.slow
def test_nanodet_proposals_find_at_least_as_many_people_as_hog_at_the_same_precision():
    model = find_spec("nanodet-g").locate(FETCHED_MODELS)
    if model is None:
        pytest.skip(f"NanoDet-g is not fetched into {FETCHED_MODELS}: `crowdmocap-server models fetch nanodet-g`")
    with BlazePoseTopDown() as hog, BlazePoseTopDown(detector=model) as nanodet:
        assert (hog.proposals, nanodet.proposals) == ("hog", "nanodet-g")
        hog_recall, hog_precision = _recall_precision(hog)
        recall, precision = _recall_precision(nanodet)
    # Measured 0.60 against 0.58 per frame: NanoDet alone finds 94 % of these people, BlazePose on the crops
    # is what loses the rest (docs/poses2d.md).
    assert recall >= hog_recall
    assert precision >= 0.9 and hog_precision >= 0.9
