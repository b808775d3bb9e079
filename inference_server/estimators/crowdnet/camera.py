"""3DCrowdNet's crop camera, and its conversion into one full-image camera shared by everyone.

Crop camera (release): focal 5000 px, principal point (128, 128) on the 256 x 256 crop, translation
(c0, c1, K·sigmoid(c2)) with K = 5000 · 2.5 / 256 = 48.828125 m.

Seen in the image, that camera has focal f_b = 5000 · b / 256 (b: the crop box side in image pixels)
and its principal point at the box centre c. The full-image camera has focal F and principal point p
(the image centre). Keeping the person where the crop camera put them means, for the pelvis P
(the root: SMPL rotates the body about it), the same apparent scale and the same image position:

    P'_z  = P_z · F / f_b                      (so F / P'_z = f_b / P_z)
    P'_xy = P_xy + (c - p) · P'_z / F          (so F · P'_xy / P'_z + p = f_b · P_xy / P_z + c)

and transl' = P' - J_0, with P = transl + J_0 and J_0 the rest pelvis for the person's betas. With
J_0 = 0 this is t_z' = 2.5 · F · sigmoid(c2) / b and t_xy' = t_xy + (c - p) · t_z' / F, the CLIFF /
Multi-RoI form. It is exact for every point at the pelvis depth; a point Δz in front of or behind it
moves by about |c - p| · Δz / P'_z pixels, the perspective the crop camera cannot see (documented in
docs/cameras.md with measured figures).
"""

from __future__ import annotations

import torch

from crowdmocap_addon.core.result.schema import PinholeCamera

CROP_FOCAL = 5000.0
CROP_SIZE = 256.0
CAMERA_3D_SIZE = 2.5  # metres: the RootNet-style area prior of the release (A_real = 2.5 m x 2.5 m)
CROP_DEPTH_SCALE = CROP_FOCAL * CAMERA_3D_SIZE / CROP_SIZE  # 48.828125 m


def crop_translation(cam_param: torch.Tensor) -> torch.Tensor:
    """(N, 3) raw camera head -> (N, 3) translation in the crop camera, metres."""
    return torch.stack([cam_param[:, 0], cam_param[:, 1], CROP_DEPTH_SCALE * torch.sigmoid(cam_param[:, 2])], dim=1)


def box_focal(bbox: torch.Tensor) -> torch.Tensor:
    """(N, 4) crop boxes [x, y, w, h] -> (N,) the crop camera's focal in image pixels, 5000 · sqrt(w h) / 256."""
    return CROP_FOCAL * torch.sqrt(bbox[:, 2] * bbox[:, 3]) / CROP_SIZE


def crop_to_full_translation(
    crop_transl: torch.Tensor,
    rest_pelvis: torch.Tensor,
    bbox: torch.Tensor,
    camera: PinholeCamera,
    focal: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N, 3) crop-camera transl, (N, 3) rest pelvis J_0, (N, 4) boxes -> (N, 3) full-image-camera transl.

    ``focal`` (N,) is each crop's frame's focal length when the camera zoomed; by default the camera's.
    """
    focal_px = camera.focal_px if focal is None else focal.to(bbox.dtype)
    pelvis = crop_transl + rest_pelvis
    depth = pelvis[:, 2] * focal_px / box_focal(bbox)
    centre = bbox[:, :2] + bbox[:, 2:] / 2
    principal = torch.tensor(camera.principal_point, dtype=bbox.dtype, device=bbox.device)
    xy = pelvis[:, :2] + (centre - principal) * (depth / focal_px)[:, None]
    return torch.cat([xy, depth[:, None]], dim=1) - rest_pelvis
