"""Randomly initialised 3DCrowdNet files in the official release layout (no licensed weights)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from inference_server.estimators.crowdnet.checkpoint import official_state_dict
from inference_server.estimators.crowdnet.model import CrowdNet

from .synthetic_smpl import synthetic_smpl_arrays

MANIFEST = Path(__file__).resolve().parent.parent / "data" / "3dcrowdnet_state_dict.json"


def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def random_network(seed: int = 0) -> CrowdNet:
    """A CrowdNet with random weights and non-trivial BatchNorm statistics (so BN mistakes show)."""
    torch.manual_seed(seed)
    model = CrowdNet()
    generator = torch.Generator().manual_seed(seed)
    for name, buffer in model.named_buffers():
        if name.endswith("running_mean"):
            buffer.copy_(torch.randn(buffer.shape, generator=generator) * 0.1)
        elif name.endswith("running_var"):
            buffer.copy_(torch.rand(buffer.shape, generator=generator) * 0.5 + 0.75)
    return model


def official_network_dict(
    model: CrowdNet, *, with_encoder: bool = True, with_smpl: bool = True, with_decoder: bool = True
) -> dict[str, torch.Tensor]:
    """``{'module.…': tensor}`` as the release saves it (DataParallel prefix, per-joint GCN layers)."""
    network = {f"module.{k}": v.clone() for k, v in official_state_dict(model).items()}
    if not with_decoder:
        network = {k: v for k, v in network.items() if "bodyprior_dec_" not in k}
    shapes = manifest()["network"]
    if with_encoder:
        generator = torch.Generator().manual_seed(1)
        for key, shape in shapes.items():
            if "bodyprior_enc_" in key:
                if key.endswith("num_batches_tracked"):
                    network[key] = torch.tensor(7)
                else:
                    network[key] = torch.randn(shape, generator=generator)
    if with_smpl:
        arrays = synthetic_smpl_arrays()
        network.update({
            "module.human_model_layer.th_betas": torch.zeros(1, 10),
            "module.human_model_layer.th_shapedirs": torch.as_tensor(arrays["shapedirs"], dtype=torch.float32),
            "module.human_model_layer.th_posedirs": torch.as_tensor(arrays["posedirs"], dtype=torch.float32),
            "module.human_model_layer.th_v_template": torch.as_tensor(arrays["v_template"][None], dtype=torch.float32),
            "module.human_model_layer.th_J_regressor": torch.as_tensor(arrays["J_regressor"], dtype=torch.float32),
            "module.human_model_layer.th_weights": torch.as_tensor(arrays["weights"], dtype=torch.float32),
            "module.human_model_layer.th_faces": torch.as_tensor(arrays["f"].astype("int64")),
        })  # fmt: skip
    return network


def write_checkpoint(path: Path, network: dict[str, torch.Tensor]) -> Path:
    torch.save({"epoch": 6, "network": network, "optimizer": {"state": {}, "param_groups": []}}, path)
    return path


def write_vposer_snapshot(folder: Path, model: CrowdNet) -> Path:
    """A VPoser v1.0 folder (snapshots/TR00_E096.pt) holding the model's decoder and a random encoder."""
    snapshots = folder / "snapshots"
    snapshots.mkdir(parents=True)
    state = {k: v.clone() for k, v in model.vposer.state_dict().items()}
    state["bodyprior_enc_fc1.weight"] = torch.randn(512, 63)
    torch.save(state, snapshots / "TR00_E096.pt")
    return folder
