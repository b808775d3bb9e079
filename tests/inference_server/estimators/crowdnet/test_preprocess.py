"""Preprocessing against values worked out by hand from the release's recipe."""

import numpy as np
import pytest

from inference_server.estimators.crowdnet.heads import gaussian_heatmaps
from inference_server.estimators.crowdnet.joint_sets import (
    GRAPH15,
    JOINTS30,
    UnknownJointSetError,
    graph_adjacency,
    to_superset,
)
from inference_server.estimators.crowdnet.preprocess import (
    bbox_from_pose,
    crop_image,
    joint_mask,
    joints_to_heatmap_space,
    person_box,
    prepare_crop,
    process_bbox,
)


def _coco_person():
    """A standing person: shoulders at y=200, hips at y=300, ankles at y=500, x between 280 and 320."""
    kp = np.zeros((17, 3))
    kp[:, 2] = 0.9
    kp[0] = [300, 150, 0.9]  # nose
    kp[1:5] = [[295, 145, 0.9], [305, 145, 0.9], [290, 150, 0.9], [310, 150, 0.9]]
    kp[5], kp[6] = [320, 200, 0.8], [280, 200, 0.5]
    kp[7], kp[8] = [330, 250, 0.9], [270, 250, 0.9]
    kp[9], kp[10] = [335, 300, 0.05], [265, 300, 0.9]  # left wrist below threshold
    kp[11], kp[12] = [312, 300, 0.9], [288, 300, 0.6]
    kp[13], kp[14] = [314, 400, 0.9], [286, 400, 0.9]
    kp[15], kp[16] = [316, 500, 0.9], [284, 500, 0.9]
    return kp


def test_coco_maps_into_the_superset_with_synthesised_pelvis_and_neck():
    joints = to_superset(_coco_person(), "coco17")
    assert joints.shape == (30, 3)
    np.testing.assert_allclose(joints[JOINTS30.index("Pelvis")], [300, 300, 0.9 * 0.6])
    np.testing.assert_allclose(joints[JOINTS30.index("Neck")], [300, 200, 0.8 * 0.5])
    np.testing.assert_allclose(joints[JOINTS30.index("L_Wrist")], [335, 300, 0.05])
    for unmapped in ("Torso", "Spine", "Chest", "L_Toe", "Head", "L_Hand", "Head_top"):
        assert not joints[JOINTS30.index(unmapped)].any()


@pytest.mark.parametrize(
    ("joint_set", "size", "index_of_neck"), [("openpose_coco18", 18, 1), ("openpose_body25", 25, 1),
                                              ("crowdpose14", 14, 13), ("halpe26", 26, 18)],
)  # fmt: skip
def test_other_sets_map_by_name(joint_set, size, index_of_neck):
    kp = np.random.default_rng(0).uniform(1, 500, size=(size, 3))
    kp[:, 2] = 0.7
    joints = to_superset(kp, joint_set)
    np.testing.assert_allclose(joints[JOINTS30.index("Neck")], kp[index_of_neck])  # the set's own neck
    assert joints[JOINTS30.index("Pelvis"), 2] == pytest.approx(0.49)  # always hip mean, product confidence
    with pytest.raises(UnknownJointSetError, match="known sets: coco17"):
        to_superset(kp, "mpii")


def test_bbox_from_pose_uses_valid_joints_with_a_20_percent_margin():
    joints = to_superset(_coco_person(), "coco17")
    bbox = bbox_from_pose(joints, joints[:, 2] > 0.1)
    # valid x: 265..330 (the left wrist at 335 is invalid), y: 145..500 -> centre (297.5, 322.5)
    np.testing.assert_allclose(bbox, [297.5 - 39.0, 322.5 - 213.0, 78.0, 426.0])
    assert bbox_from_pose(joints, np.zeros(30, bool)) is None


def test_process_bbox_clips_squares_and_enlarges():
    # x2 = 100 + 39, y2 = 50 + 79 -> 39 x 79 about (119.5, 89.5) -> square side 79 * 1.25
    np.testing.assert_allclose(process_bbox([100, 50, 40, 80], 640, 480), [70.125, 40.125, 98.75, 98.75])
    # Sticking out on the left: x1 = 0 and x2 = x1 + w - 1 (the release's quirk), not x + w.
    # -> 59 x 29 about (29.5, 114.5) -> side 59 * 1.25
    np.testing.assert_allclose(process_bbox([-20, 100, 60, 30], 640, 480), [-7.375, 77.625, 73.75, 73.75])
    assert process_bbox([700, 100, 50, 50], 640, 480) is None
    assert process_bbox([10, 10, 0, 50], 640, 480) is None


def test_crop_puts_a_marked_pixel_where_the_affine_says():
    image = np.zeros((480, 640, 3), np.uint8)
    image[300, 200] = [255, 0, 0]
    bbox = np.array([136.0, 236.0, 128.0, 128.0])  # centre (200, 300), 2x magnification
    crop = crop_image(image, bbox)
    y, x = np.unravel_index(crop[..., 0].argmax(), crop.shape[:2])
    assert (x, y) == (128, 128)
    assert crop[..., 1:].max() == 0 and crop[128, 128, 0] == 255
    image[0:5, :] = 255  # a box reaching out of the image is padded black
    assert crop_image(image, np.array([-100.0, -100.0, 200.0, 200.0]))[:64].max() == 0


def test_joints_move_to_heatmap_space_and_the_mask_drops_weak_and_outside_joints():
    joints = to_superset(_coco_person(), "coco17")
    bbox = np.array([200.0, 150.0, 256.0, 256.0])  # 1 image px = 1 crop px = 1/4 heatmap px
    hm = joints_to_heatmap_space(joints, bbox)
    np.testing.assert_allclose(hm[JOINTS30.index("Nose"), :2], [(300 - 200) / 4, 0.0])
    np.testing.assert_allclose(hm[JOINTS30.index("L_Knee"), :2], [(314 - 200) / 4, (400 - 150) / 4])
    mask = joint_mask(hm)[:, 0]
    assert mask[JOINTS30.index("L_Shoulder")] == 1
    assert mask[JOINTS30.index("L_Wrist")] == 0  # confidence 0.05 <= 0.1
    assert mask[JOINTS30.index("L_Ankle")] == 0  # y = 87.5 heatmap px: outside the crop
    assert mask[JOINTS30.index("Head_top")] == 0  # not given by COCO


def test_heatmap_peaks_sit_on_the_joints_and_masked_joints_are_empty():
    import torch

    joints = torch.tensor([[[10.0, 20.0, 1.0], [40.0, 5.0, 1.0], [30.0, 30.0, 1.0]]])
    mask = torch.tensor([[[1.0], [1.0], [0.0]]])
    maps = gaussian_heatmaps(joints, mask)
    assert maps.shape == (1, 3, 64, 64)
    for j, (x, y) in enumerate([(10, 20), (40, 5)]):
        assert np.unravel_index(int(maps[0, j].argmax()), (64, 64)) == (y, x)
        assert float(maps[0, j, y, x]) == pytest.approx(1.0)
        assert float(maps[0, j, y, x + 1]) == pytest.approx(np.exp(-0.5 / 2.5**2))
    assert float(maps[0, 2].abs().max()) == 0.0


def test_prepare_crop_end_to_end():
    image = np.full((480, 640, 3), 128, np.uint8)
    joints = to_superset(_coco_person(), "coco17")
    box = person_box(joints, 640, 480)
    item = prepare_crop(image, joints, box)
    assert item.image.shape == (3, 256, 256) and item.image.dtype == np.float32
    assert item.image.max() == pytest.approx(128 / 255)  # RGB / 255, no mean/std
    assert box[2] == box[3] and item.mask.shape == (30, 1)


def test_adjacency_equals_the_reference_table():
    adj = graph_adjacency()
    expected_rows = {
        0: {0: .25, 1: .25, 2: .25, 7: .223607}, 1: {0: .25, 1: .25, 2: .25, 3: .25},
        2: {0: .25, 1: .25, 2: .25, 4: .25}, 3: {1: .25, 3: .25, 4: .25, 5: .288675},
        4: {2: .25, 3: .25, 4: .25, 6: .288675}, 5: {3: .288675, 5: .333333, 6: .333333},
        6: {4: .288675, 5: .333333, 6: .333333},
        7: {0: .223607, 7: .2, 8: .316228, 9: .223607, 10: .223607}, 8: {7: .316228, 8: .5},
        9: {7: .223607, 9: .25, 10: .25, 11: .25}, 10: {7: .223607, 9: .25, 10: .25, 12: .25},
        11: {9: .25, 11: .25, 12: .25, 13: .288675}, 12: {10: .25, 11: .25, 12: .25, 14: .288675},
        13: {11: .288675, 13: .333333, 14: .333333}, 14: {12: .288675, 13: .333333, 14: .333333},
    }  # fmt: skip
    table = np.zeros((15, 15))
    for row, entries in expected_rows.items():
        for col, value in entries.items():
            table[row, col] = value
    np.testing.assert_allclose(adj, table, atol=1e-6)
    assert len(GRAPH15) == 15
