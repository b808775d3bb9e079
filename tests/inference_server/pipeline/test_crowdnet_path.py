"""3DCrowdNet inside the pipeline: a random network in the official layout, SMPL from its buffers."""

from __future__ import annotations

import numpy as np
import pytest

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.result.reader import read_result
from inference_server.pipeline.model_plan import file_sha256
from inference_server.pipeline.options import CaptureOptions
from inference_server.pipeline.run import run_capture
from tests.helpers.crowdnet_files import official_network_dict, random_network, write_checkpoint
from tests.helpers.street import STREET
from tests.inference_server.pipeline.test_run_capture import ReplayFactory

pytestmark = pytest.mark.slow


def test_crowdnet_estimates_are_batched_across_frames_and_assembled_per_track(tmp_path):
    replay = ReplayFactory()
    models = tmp_path / "models"
    (models / "3dcrowdnet").mkdir(parents=True)
    checkpoint = write_checkpoint(models / "3dcrowdnet" / "demo_checkpoint.pth.tar",
                                  official_network_dict(random_network(seed=3)))  # fmt: skip
    # temporal_fit off: a randomly initialised network's bodies explain no keypoint, and the fit would rightly
    # cut every one of them out (cut_unexplained); this test is about batching and assembly
    options = CaptureOptions(models_dir=str(models), stop=30, min_track_length=5, device="cpu", batch_size=4,
                             temporal_fit=False)  # fmt: skip
    summary = run_capture(STREET, tmp_path / "r.npz", options, pose_backend_factory=replay)
    result = read_result(summary.result_path)
    assert (result.pipeline.estimator, result.body_model.kind) == ("crowdnet", "smpl")
    assert result.pipeline.options["models"]["checkpoint"] == {
        "file": "demo_checkpoint.pth.tar", "sha256": file_sha256(checkpoint)}  # fmt: skip
    assert len(result.people) >= 3 and replay.opened[0].calls == 30
    for person in result.people:
        # one shape per person, and the stored translation puts the pelvis where FK expects it
        joints = forward_kinematics(person.rest_joints, person.global_orient, person.body_pose, person.transl).joints
        assert np.isfinite(joints).all()
        assert np.allclose(joints[:, 0], person.rest_joints[0] + person.transl, atol=1e-5)
