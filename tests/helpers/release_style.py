"""3DCrowdNet's heads computed the way the release does: Python loops over the 15 joints.

The reference that the vectorised heads are tested against, and the baseline of the throughput bench.
"""

from __future__ import annotations

import types

import torch
import torch.nn.functional as F

from inference_server.estimators.crowdnet.checkpoint import official_state_dict
from inference_server.estimators.crowdnet.joint_sets import graph_adjacency
from inference_server.estimators.crowdnet.model import CrowdNet


def rotation_net_loops(official, features, coords, score):
    """RotationNet with one grid_sample and one Linear + BatchNorm1d per joint, as in the release."""
    adj = torch.tensor(graph_adjacency(), dtype=features.dtype, device=features.device)
    feats = []
    for j in range(15):
        grid = (coords[:, j, None, None, :2] / 7) * 2 - 1
        feats.append(F.grid_sample(features, grid, align_corners=True)[:, :, 0, 0])
    x = torch.cat([torch.stack(feats, 1), coords, score], dim=2)

    def graph_conv(x, prefix):
        out = []
        for j in range(15):
            p = f"{prefix}fcbn_list.{j}."
            y = F.linear(x[:, j], official[p + "0.weight"], official[p + "0.bias"])
            y = F.batch_norm(
                y,
                official[p + "1.running_mean"],
                official[p + "1.running_var"],
                official[p + "1.weight"],
                official[p + "1.bias"],
                training=False,
            )
            out.append(y)
        return F.relu(torch.bmm(adj.expand(x.shape[0], 15, 15), torch.stack(out, 1)))

    x = graph_conv(x, "rotation_net.graph_block.0.")
    for r in range(1, 5):
        block = f"rotation_net.graph_block.{r}."
        x = graph_conv(graph_conv(x, block + "graph_block1."), block + "graph_block2.") + x
    flat = x.flatten(1)
    heads = ("root_pose_out", "pose_out", "shape_out", "cam_out")
    return tuple(
        F.linear(flat, official[f"rotation_net.{h}.0.weight"], official[f"rotation_net.{h}.0.bias"]) for h in heads
    )


def use_release_loops(network: CrowdNet) -> CrowdNet:
    """Make ``network`` run its RotationNet through the per-joint loops (same weights, same numbers)."""
    official = official_state_dict(network)

    def forward(self, features, coords, score):
        return rotation_net_loops(official, features, coords, score)

    network.rotation_net.forward = types.MethodType(forward, network.rotation_net)
    return network
