"""Importing keypoints made by other estimators."""

import json

import numpy as np
import pytest

from inference_server.poses2d.imported import (
    PoseImportError,
    import_coco_results,
    import_crowdnet_demo,
    import_openpose_folder,
)

COCO = np.arange(17 * 3, dtype=float).reshape(17, 3)
COCO[:, 2] = np.linspace(0.2, 1.0, 17)


def _openpose_from_coco(coco, size):
    """Place COCO keypoints at their OpenPose indices (neck, mid-hip and feet get values of their own)."""
    from inference_server.poses2d.imported import OPENPOSE_TO_COCO

    op = np.full((size, 3), 7.0)
    op[OPENPOSE_TO_COCO[size]] = coco
    return op.reshape(-1).tolist()


def test_coco_results(tmp_path):
    entries = [
        {"image_id": 3, "category_id": 1, "keypoints": COCO.reshape(-1).tolist(), "score": 0.8},
        {"image_id": 1, "category_id": 1, "keypoints": (COCO + [10, 0, 0]).reshape(-1).tolist(), "score": 0.6},
        {"image_id": 3, "category_id": 1, "keypoints": [0.0] * 51, "score": 0.1},  # all zero: nobody
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(entries))
    frames = import_coco_results(path, fps=10, first_image_id=1)
    assert [f.index for f in frames] == [0, 2]
    assert frames[1].time == pytest.approx(0.2) and len(frames[1].people) == 1
    np.testing.assert_allclose(frames[1].people[0].keypoints, COCO)
    assert frames[1].people[0].score == 0.8
    np.testing.assert_allclose(frames[1].people[0].box, [0, 1, 48, 49])


@pytest.mark.parametrize("size", [18, 25])
def test_openpose_folders_map_to_coco(tmp_path, size):
    for frame in (0, 12):
        data = {"version": 1.3, "people": [{"pose_keypoints_2d": _openpose_from_coco(COCO + frame, size)}]}
        (tmp_path / f"clip_{frame:012d}_keypoints.json").write_text(json.dumps(data))
    frames = import_openpose_folder(tmp_path, fps=24)
    assert [f.index for f in frames] == [0, 12]
    np.testing.assert_allclose(frames[1].people[0].keypoints[:, :2], (COCO + 12)[:, :2])


def test_crowdnet_demo_format(tmp_path):
    rows = [[*row, 0.0, 0.0] for row in COCO.tolist()]  # extra values per row are ignored, as in the demo
    data = {"img10.jpg": [rows], "img2.jpg": [COCO.tolist(), COCO.tolist()]}
    path = tmp_path / "2d_pose_result.json"
    path.write_text(json.dumps(data))
    frames = import_crowdnet_demo(path)
    assert [len(f.people) for f in frames] == [2, 1]  # img2 before img10
    np.testing.assert_allclose(frames[1].people[0].keypoints, COCO)


def test_malformed_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PoseImportError, match=r"bad\.json: not a readable JSON"):
        import_coco_results(bad)
    bad.write_text(json.dumps([{"image_id": 0, "keypoints": [1, 2, 3]}]))
    with pytest.raises(PoseImportError, match="detection 0: expected 17 keypoints"):
        import_coco_results(bad)
    (tmp_path / "op").mkdir()
    (tmp_path / "op" / "x_000001_keypoints.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": [1] * 30}]}))
    with pytest.raises(PoseImportError, match="18 or 25"):
        import_openpose_folder(tmp_path / "op")
    with pytest.raises(PoseImportError, match="no OpenPose"):
        import_openpose_folder(tmp_path)
