"""The embedded backend's models: NanoDet-g proposals and the ONNX landmark network when fetched, else the
fallbacks (HOG, MediaPipe's solution), each fallback said to the user."""

from __future__ import annotations

from inference_server.pipeline.model_plan import plan_models
from inference_server.pipeline.options import CaptureOptions


def _model(folder, name):
    model = folder / name
    model.parent.mkdir(parents=True)
    model.write_bytes(b"an onnx model")
    return model


def test_blazepose_takes_nanodet_and_its_landmark_network_from_the_models_folder(tmp_path):
    detector = _model(tmp_path, "nanodet-g/nanodet.onnx")
    landmarks = _model(tmp_path, "blazepose-full/blazepose-full.onnx")
    plan = plan_models(CaptureOptions(models_dir=str(tmp_path)))
    assert (plan.pose_backend, plan.detector_model, plan.landmark_model) == ("blazepose", detector, landmarks)
    assert plan.warnings == ()
    assert (plan.files["detector_model"], plan.files["landmark_model"]) == (detector, landmarks)  # provenance


def test_without_them_hog_and_mediapipe_run_and_the_user_is_told_how_to_get_them(tmp_path):
    plan = plan_models(CaptureOptions(models_dir=str(tmp_path)))
    assert plan.pose_backend == "blazepose" and plan.detector_model is None and plan.landmark_model is None
    hog, mediapipe = plan.warnings
    assert "HOG" in hog and "models fetch nanodet-g" in hog
    assert "MediaPipe" in mediapipe and "models fetch blazepose-full" in mediapipe


def test_a_detector_the_user_names_wins(tmp_path):
    mine = tmp_path / "my_nanodet.onnx"
    mine.write_bytes(b"an onnx model")
    assert plan_models(CaptureOptions(models_dir=str(tmp_path), detector_model=str(mine))).detector_model == mine
