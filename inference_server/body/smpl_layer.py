"""One wrapper around ``smplx.SMPL`` that takes the user's model file, official ``.pkl`` or ``.npz``.

smplx itself can only ``pickle.load`` a file, which fails on ``.npz`` and, for the official ``.pkl``,
needs chumpy (dead on Python 3.11). So the file is read by CrowdMocap's chumpy-free loader and handed to
smplx as arrays; smplx then does exactly what it does for everyone else.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import smplx
import torch
from smplx.utils import Struct

from crowdmocap_addon.core.body.smpl_file import SmplModelData, load_smpl_model
from crowdmocap_addon.core.joints import NUM_BODY_JOINTS, NUM_JOINTS

# smplx's defaults index vertices of the real 6890-vertex mesh for its extra joints; they are not
# part of our output (only the 24 kinematic joints are), so smaller meshes get harmless in-range ids.
_REAL_SMPL_VERTEX_COUNT = 6890
_SMALL_MESH_VERTEX_IDS = {"nose": 0, "reye": 0, "leye": 0, "rear": 0, "lear": 0}


@dataclass(frozen=True)
class SmplOutput:
    vertices: torch.Tensor  # (N, V, 3) metres
    joints: torch.Tensor  # (N, 24, 3) the kinematic joints, metres


class SmplBody(torch.nn.Module):
    """SMPL forward on torch: (betas, global_orient, body_pose, transl) -> vertices and 24 joints."""

    def __init__(self, model: SmplModelData, *, num_betas: int = 10, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.model = model
        arrays = model.official_arrays()
        small = model.v_template.shape[0] < _REAL_SMPL_VERTEX_COUNT
        # smplx prints "only 10 shape coefficients" for every SMPL model: 10 is what SMPL has, not a problem.
        with contextlib.redirect_stdout(io.StringIO()):
            self.layer = smplx.SMPL(
                model_path=str(model.source),
                data_struct=Struct(**arrays),
                num_betas=min(num_betas, model.num_betas),
                gender=model.gender,
                dtype=dtype,
                vertex_ids=_SMALL_MESH_VERTEX_IDS if small else None,
                use_hands=not small,
                use_feet_keypoints=not small,
            )

    @classmethod
    def from_file(cls, path: str | Path, gender: str = "neutral", **kwargs: object) -> SmplBody:
        """Load an SMPL model file (or a folder holding one); errors name the file and where to get it."""
        return cls(load_smpl_model(path, gender), **kwargs)  # type: ignore[arg-type]

    @property
    def faces(self) -> np.ndarray:
        return self.model.faces

    def forward(
        self,
        betas: torch.Tensor,
        global_orient: torch.Tensor,
        body_pose: torch.Tensor,
        transl: torch.Tensor,
    ) -> SmplOutput:
        """betas (N, 10), global_orient (N, 3), body_pose (N, 23, 3) axis-angle, transl (N, 3)."""
        count = global_orient.shape[0]
        out = self.layer(
            betas=betas.reshape(count, -1),
            global_orient=global_orient.reshape(count, 3),
            body_pose=body_pose.reshape(count, NUM_BODY_JOINTS * 3),
            transl=transl.reshape(count, 3),
            return_verts=True,
        )
        return SmplOutput(vertices=out.vertices, joints=out.joints[:, :NUM_JOINTS])

    def rest_joints(self, betas: np.ndarray) -> np.ndarray:
        """(10,) betas -> (24, 3) rest joint locations, the ``rest_joints`` of a result file."""
        return self.model.rest_joints(betas)
