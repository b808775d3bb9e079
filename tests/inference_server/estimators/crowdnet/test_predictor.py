"""The predictor end to end on a random network and the synthetic SMPL model."""

import numpy as np
import pytest
import torch

from inference_server.camera import full_image_camera
from inference_server.estimators.crowdnet.predictor import CrowdNetPredictor, PersonRequest
from tests.helpers.crowdnet_files import official_network_dict, random_network, write_checkpoint


def _people(rng, count, images=2, width=640, height=480):
    people = []
    for i in range(count):
        cx, cy, scale = rng.uniform(100, width - 100), rng.uniform(150, height - 150), rng.uniform(0.5, 1.2)
        template = np.array([
            [0, -120], [-5, -125], [5, -125], [-10, -120], [10, -120], [-30, -90], [30, -90], [-40, -40],
            [40, -40], [-45, 0], [45, 0], [-20, 0], [20, 0], [-22, 60], [22, 60], [-24, 120], [24, 120],
        ], dtype=float)  # fmt: skip
        points = np.concatenate([template * scale + [cx, cy], rng.uniform(0.3, 1.0, size=(17, 1))], axis=1)
        people.append(PersonRequest(image_index=i % images, keypoints=points))
    return people


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "demo_checkpoint.pth.tar"
    return write_checkpoint(path, official_network_dict(random_network(seed=7)))


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, size=(480, 640, 3), dtype=np.uint8) for _ in range(2)]
    return images, _people(rng, 6), full_image_camera(640, 480)


def test_batched_equals_one_at_a_time(checkpoint, scene):
    images, people, camera = scene
    batched, report = CrowdNetPredictor.from_files(checkpoint, device="cpu", batch_size=8)
    single, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu", batch_size=1, channels_last=False)
    together = batched.predict(images, people, camera)
    alone = [single.predict(images, [p], camera)[0] for p in people]
    assert report.smpl_source.startswith("checkpoint")
    for a, b in zip(together, alone, strict=True):
        for name in ("global_orient", "body_pose", "betas", "transl", "joints", "crop_transl", "joint_score"):
            assert np.abs(getattr(a, name) - getattr(b, name)).max() < 1e-4, name


def test_outputs_live_in_the_full_image_camera(checkpoint, scene):
    images, people, camera = scene
    predictor, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu")
    for estimate in predictor.predict(images, people, camera):
        assert estimate.body_pose.shape == (23, 3) and not estimate.body_pose[21:].any()
        # the pelvis projects where the crop camera put it, mapped back through the crop box
        x, y, side, _ = estimate.bbox
        pelvis_crop = estimate.crop_transl + (estimate.joints[0] - estimate.transl)
        crop_px = 5000 * pelvis_crop[:2] / pelvis_crop[2] + 128
        expected = (crop_px - 128) * side / 256 + np.array([x + side / 2, y + side / 2])
        projected = camera.focal_px * estimate.joints[0, :2] / estimate.joints[0, 2] + camera.principal_point
        assert np.abs(projected - expected).max() < 1e-2
        assert estimate.camera_spread == 0.0


def test_people_without_a_usable_pose_get_none(checkpoint, scene):
    images, people, camera = scene
    predictor, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu")
    invisible = PersonRequest(image_index=0, keypoints=np.zeros((17, 3)))
    results = predictor.predict(images, [invisible, people[0]], camera)
    assert results[0] is None and results[1] is not None
    assert predictor.predict(images, [], camera) == []


def test_multi_roi_fuses_five_crops_per_person(checkpoint, scene):
    images, people, camera = scene
    predictor, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu", rois=5)
    estimates = predictor.predict(images, people[:3], camera)
    for estimate in estimates:
        assert estimate.camera_spread > 0.0 and np.isfinite(estimate.transl).all()
    single, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu", rois=1)
    plain = single.predict(images, people[:3], camera)
    # the first RoI is the plain box: its crop camera is the single-RoI one
    np.testing.assert_allclose([e.crop_transl for e in estimates], [p.crop_transl for p in plain], atol=1e-4)


def test_bf16_autocast_runs_and_stays_close(checkpoint, scene):
    images, people, camera = scene
    fp32, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu")
    bf16, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu", precision="bf16")
    a, b = fp32.predict(images, people[:2], camera), bf16.predict(images, people[:2], camera)
    for x, y in zip(a, b, strict=True):
        assert np.abs(x.betas - y.betas).max() < 0.5  # a loose sanity bound: bf16 keeps ~3 digits
    with pytest.raises(ValueError, match="precision"):
        CrowdNetPredictor.from_files(checkpoint, device="cpu", precision="int8")


@pytest.mark.gpu
def test_cuda_matches_cpu(checkpoint, scene):
    images, people, camera = scene
    cpu, _ = CrowdNetPredictor.from_files(checkpoint, device="cpu")
    gpu, _ = CrowdNetPredictor.from_files(checkpoint, device="cuda")
    for a, b in zip(cpu.predict(images, people, camera), gpu.predict(images, people, camera), strict=True):
        assert np.abs(a.joints - b.joints).max() < 1e-3
        assert torch.cuda.is_available()
