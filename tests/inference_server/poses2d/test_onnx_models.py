"""RTMO and RTMPose backends: decoding on hand-made arrays, and the real onnxruntime path on tiny models."""

import numpy as np
import pytest

from inference_server.footage import open_footage
from inference_server.poses2d.onnx_models import (
    OnnxModelError,
    RtmoBackend,
    RtmPoseBackend,
    decode_detector,
    decode_rtmo,
    decode_simcc,
    letterbox,
    rtmpose_crop,
)
from tests.conftest import REPO
from tests.helpers import tiny_onnx


@pytest.fixture(scope="module")
def street_frame():
    return next(open_footage(REPO / "tests" / "data" / "vtest_first10s.avi").frames()).image


def test_letterbox_keeps_aspect_top_left_on_grey():
    image = np.full((100, 200, 3), 7, np.uint8)
    canvas, ratio = letterbox(image, 64, 64)
    assert ratio == pytest.approx(0.32)
    assert (canvas[:32, :64] == 7).all() and (canvas[32:] == 114).all()


def test_rtmo_decoding_scales_back_thresholds_and_suppresses():
    dets = np.array([[[10, 10, 20, 40, 0.9], [11, 10, 21, 40, 0.8], [40, 10, 50, 40, 0.6], [0, 0, 5, 5, 0.1]]])
    keypoints = np.zeros((1, 4, 17, 3))
    keypoints[0, :, :, :2] = 15
    keypoints[0, :, :, 2] = 1.3  # out-of-range scores are clipped
    people = decode_rtmo(dets, keypoints, 0.5, score_threshold=0.5, nms_iou=0.45)
    assert [p.score for p in people] == [0.9, 0.6]
    np.testing.assert_allclose(people[0].box, [20, 20, 40, 80])
    np.testing.assert_allclose(people[0].keypoints[0], [30, 30, 1.0])


def test_detector_decoding_end2end_and_raw_yolox():
    dets = np.array([[[8, 8, 24, 40, 0.9], [30, 8, 40, 40, 0.95], [8, 8, 24, 40, 0.2]]])
    labels = np.array([[0, 2, 0]])  # class 2 is not a person
    boxes, scores = decode_detector([dets, labels], 0.5, (64, 64), score_threshold=0.5, nms_iou=0.45)
    np.testing.assert_allclose(boxes, [[16, 16, 48, 80]])
    np.testing.assert_allclose(scores, [0.9])
    # raw YOLOX on a 64 x 64 input: 8x8 + 4x4 + 2x2 anchors; light up the stride-8 cell (x=3, y=2)
    raw = np.zeros((1, 64 + 16 + 4, 6))
    raw[0, :, 4] = 0.01
    raw[0, 2 * 8 + 3] = [0.5, 0.5, np.log(2.0), np.log(4.0), 0.9, 1.0]
    boxes, scores = decode_detector([raw], 1.0, (64, 64), score_threshold=0.5, nms_iou=0.45)
    # centre ((3 + 0.5) * 8, (2 + 0.5) * 8) = (28, 20), size (16, 32)
    np.testing.assert_allclose(boxes, [[20, 4, 36, 36]])
    with pytest.raises(OnnxModelError, match="anchors"):
        decode_detector([raw[:, :10]], 1.0, (64, 64), score_threshold=0.5, nms_iou=0.45)


def test_rtmpose_crop_and_simcc_decoding_round_trip():
    box = np.array([100.0, 50.0, 140.0, 170.0])  # 40 x 120 -> x1.25 = 50 x 150 -> fitted to 3:4 = 112.5 x 150
    affine, centre, size = rtmpose_crop(box, (256, 192))
    np.testing.assert_allclose(centre, [120, 110])
    np.testing.assert_allclose(size, [112.5, 150])
    np.testing.assert_allclose(affine @ [120, 110, 1], [96, 128])  # box centre -> input centre
    simcc_x, simcc_y = np.zeros((1, 17, 384)), np.zeros((1, 17, 512))
    simcc_x[0, :, 96] = 0.8  # x = 48 input px
    simcc_y[0, :, 256] = 0.6  # y = 128 input px
    points = decode_simcc(simcc_x, simcc_y, centre, size, (256, 192))
    # input (48, 128) -> image: 48 / 192 * 112.5 + 120 - 56.25 = 91.875; 128 / 256 * 150 + 110 - 75 = 110
    np.testing.assert_allclose(points[0], [91.875, 110.0, 0.6])


def test_rtmo_backend_runs_a_tiny_model_with_the_real_signature(tmp_path, street_frame):
    backend = RtmoBackend(tiny_onnx.rtmo(tmp_path / "rtmo.onnx"), score_threshold=0.0)
    poses = backend(street_frame, 5, 0.5)
    assert poses.index == 5 and 1 <= len(poses.people) <= 4
    for person in poses.people:
        assert person.keypoints.shape == (17, 3)
        assert person.keypoints[:, :2].max() <= 64 / (64 / 768) + 1e-6  # scaled back from the 64 px letterbox


def test_rtmpose_backend_runs_tiny_models(tmp_path, street_frame):
    backend = RtmPoseBackend(tiny_onnx.rtmpose(tmp_path / "rtmpose.onnx"),
                             tiny_onnx.detector_end2end(tmp_path / "det.onnx"), score_threshold=0.0)  # fmt: skip
    boxes, _ = backend.detect(street_frame)
    poses = backend(street_frame)
    assert len(poses.people) == len(boxes) >= 1
    for person in poses.people:
        x0, y0, x1, y1 = person.box
        pad = max(x1 - x0, y1 - y0)
        assert (person.keypoints[:, 0] >= x0 - pad).all() and (person.keypoints[:, 0] <= x1 + pad).all()


def test_wrong_models_are_refused_with_the_file_named(tmp_path):
    with pytest.raises(OnnxModelError, match="does not exist"):
        RtmoBackend(tmp_path / "absent.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(OnnxModelError, match=r"junk\.onnx is not a loadable ONNX model"):
        RtmoBackend(tmp_path / "junk.onnx")
    with pytest.raises(OnnxModelError, match="two outputs, dets"):
        RtmoBackend(tiny_onnx.detector_end2end(tmp_path / "det.onnx"))
