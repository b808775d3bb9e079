"""Loading the official checkpoint layout strictly, with the manifest of the release as the reference."""

import subprocess
import sys

import pytest
import torch

from crowdmocap_addon.core.body.smpl_file import SmplModelError
from inference_server.estimators.crowdnet.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    expected_shapes,
    load_crowdnet,
)
from tests.helpers.crowdnet_files import (
    manifest,
    official_network_dict,
    random_network,
    write_checkpoint,
    write_vposer_snapshot,
)


@pytest.fixture(scope="module")
def network():
    return random_network()


def test_network_keys_and_shapes_equal_the_release_manifest(network):
    reference = manifest()
    required = {
        key: tuple(shape)
        for key, shape in reference["network"].items()
        if "bodyprior_enc_" not in key and ".human_model_layer." not in key
    }
    ours = {f"module.{key}": shape for key, shape in expected_shapes().items()}
    assert ours == required
    counts = reference["group_key_counts"]
    assert len(ours) == sum(counts[g] for g in reference["required_groups"])


def test_random_official_checkpoint_loads_with_every_key_matched(tmp_path, network):
    path = write_checkpoint(tmp_path / "demo_checkpoint.pth.tar", official_network_dict(network))
    loaded, smpl, report = load_crowdnet(tmp_path)  # a folder works: the release's file name is found
    assert report.matched == len(expected_shapes()) == 1286
    assert report.ignored == {"VPoser encoder tensors": 18, "SMPL buffers": 7}
    assert report.vposer_source == "checkpoint" and report.smpl_source.startswith("checkpoint")
    assert report.checkpoint == path
    for (name, ours), (_, theirs) in zip(loaded.state_dict().items(), network.state_dict().items(), strict=True):
        assert torch.equal(ours, theirs), name
    assert smpl.v_template.shape == (192, 3)


def test_every_manifest_key_is_recognised(tmp_path, network):
    """All 1311 keys of the real checkpoint are either loaded or knowingly ignored: none is 'unexpected'."""
    full = official_network_dict(network)
    assert set(full) == set(manifest()["network"])


def test_renamed_missing_and_misshaped_keys_are_each_named(tmp_path, network):
    damaged = official_network_dict(network)
    damaged["module.backbone.layer3.1.conv2.weight_renamed"] = damaged.pop("module.backbone.layer3.1.conv2.weight")
    del damaged["module.rotation_net.graph_block.2.graph_block1.fcbn_list.7.1.running_var"]
    damaged["module.rotation_net.cam_out.0.weight"] = torch.zeros(4, 1920)
    path = write_checkpoint(tmp_path / "bad.pth.tar", damaged)
    with pytest.raises(CheckpointMismatchError) as err:
        load_crowdnet(path)
    message = str(err.value)
    assert "missing key: backbone.layer3.1.conv2.weight" in message
    assert "missing key: rotation_net.graph_block.2.graph_block1.fcbn_list.7.1.running_var" in message
    assert "unexpected key: backbone.layer3.1.conv2.weight_renamed" in message
    assert "shape mismatch: rotation_net.cam_out.0.weight: checkpoint (4, 1920), network expects (3, 1920)" in message
    assert len(err.value.missing) == 2 and len(err.value.unexpected) == 1 and len(err.value.mismatched) == 1


def test_vposer_from_a_separate_snapshot_and_smpl_from_the_users_file(tmp_path, network, smpl_npz):
    path = write_checkpoint(
        tmp_path / "snapshot_6.pth.tar", official_network_dict(network, with_decoder=False, with_smpl=False)
    )
    with pytest.raises(CheckpointNotFoundError, match=r"--vposer PATH.*smpl-x\.is\.tue\.mpg\.de"):
        load_crowdnet(path)
    vposer = write_vposer_snapshot(tmp_path / "vposer_v1_0", network)
    with pytest.raises(CheckpointNotFoundError, match=r"--smpl PATH"):
        load_crowdnet(path, vposer=vposer)
    loaded, _, report = load_crowdnet(path, vposer=vposer, smpl=smpl_npz)
    assert report.vposer_source == str(vposer) and report.smpl_source == str(smpl_npz)
    assert torch.equal(loaded.vposer.bodyprior_dec_out.weight, network.vposer.bodyprior_dec_out.weight)


def test_missing_and_unreadable_files_say_what_and_where(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match=r"demo_checkpoint\.pth\.tar.*3DCrowdNet_RELEASE"):
        load_crowdnet(tmp_path)
    with pytest.raises(CheckpointNotFoundError, match="does not exist"):
        load_crowdnet(tmp_path / "nope.pth.tar")
    junk = tmp_path / "junk.pth.tar"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match=r"junk\.pth\.tar is not a readable 3DCrowdNet checkpoint"):
        load_crowdnet(junk)
    torch.save({"state_dict": {}}, tmp_path / "other.pth.tar")
    with pytest.raises(CheckpointError, match="has no 'network' state dict"):
        load_crowdnet(tmp_path / "other.pth.tar")


def test_bad_smpl_buffers_in_the_checkpoint_are_reported(tmp_path, network):
    damaged = official_network_dict(network)
    damaged["module.human_model_layer.th_weights"] = torch.zeros(192, 20)
    with pytest.raises(SmplModelError, match="'weights' has shape"):
        load_crowdnet(write_checkpoint(tmp_path / "c.pth.tar", damaged))


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "inference_server", "models", "check", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_models_check_reports_sources_and_fails_naming_each_bad_key(tmp_path, network, smpl_npz):
    good = write_checkpoint(tmp_path / "demo_checkpoint.pth.tar", official_network_dict(network))
    done = _cli(good, "--smpl", smpl_npz)
    assert done.returncode == 0, done.stderr
    assert "network tensors matched: 1286 of 1286" in done.stdout
    assert "VPoser decoder: checkpoint" in done.stdout and f"SMPL model: {smpl_npz}" in done.stdout
    damaged = official_network_dict(network)
    del damaged["module.pose2feat.conv.1.running_mean"]
    damaged["module.extra.weight"] = torch.zeros(1)
    bad = write_checkpoint(tmp_path / "bad.pth.tar", damaged)
    done = _cli(bad)
    assert done.returncode == 1
    assert "missing key: pose2feat.conv.1.running_mean" in done.stderr
    assert "unexpected key: extra.weight" in done.stderr
    assert "Traceback" not in done.stderr
    done = _cli(tmp_path / "absent.pth.tar")
    assert done.returncode == 1 and "3DCrowdNet_RELEASE" in done.stderr
