"""Rest-pose aware motion transfer from a CrowdMocap (SMPL) armature onto any mapped target armature.

World space, per mapped target bone b driven by SMPL joint j (all rotations world-space 3 × 3):

    R_b(t) = S_j(t) · S_j⁰⁻¹ · A_b · T_b⁰

- ``S_j(t)``, ``S_j⁰``: the source bone's posed and rest world rotations; ``S_j(t) · S_j⁰⁻¹`` is how far the
  person has turned that body part from the source's rest pose;
- ``T_b⁰``: the target bone's rest world rotation (its roll included, so any roll comes out right);
- ``A_b``: the target's rest "swung onto" the source's rest: the smallest rotation turning the target's
  rest segment (b's head -> the head of the bone mapped to j's child) onto the source's rest segment, after
  a turn about world Z that makes both skeletons face the same way. A T-pose target on SMPL's T-pose rest
  gets A_b ≈ I (the plain ``S · S⁰⁻¹ · T⁰``); an A-pose target's arms get the 45° that lifts them.
  Bones without a mapped child (hands, head, toes) take the A of their nearest mapped SMPL ancestor.

So at the source's rest every mapped segment of the target points where the source's does, and at every
frame each mapped segment turns exactly as the source's segment turns. The bone's pose channel (local
rotation) then follows from its parent's posed frame, bones processed parents first; unmapped target
bones keep their rest relative to their parents.

Root motion: the target's hips (the bone mapped to the pelvis) follow the source pelvis scaled by
``s = target hip height / source hip height`` (pelvis above the ankles at rest): heights are scaled about
world Z = 0 (the floor of a ground-aligned import) and horizontal motion about the person's first
position, so the crowd keeps its layout and strides fit the target's legs. ``PATH`` keeps the captured
path instead: the hips are where the person's pelvis is at every frame (only their height is scaled), so
a character laid over the footage stays on its person (crowd replacement), at the price of strides that
are the person's, not the rig's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core.geometry import swing_rotation
from ..core.joints import JOINT_NAMES, PARENTS, SMPL_LEGS
from ..core.legs import jump_frames, leg_swings, pin_schedule, two_bone_ik
from .armature import Skeleton, apply_basis, local_location, local_rotation, parent_frame
from .transforms import rotation_part

ROOT_MOTION_MODES = ("HIPS", "PATH", "IN_PLACE", "ROOT_BONE")
_J = {name: index for index, name in enumerate(JOINT_NAMES)}
# The child each SMPL joint points at (None for end joints): defines its segment.
AIM_CHILD: dict[int, int | None] = {
    _J["pelvis"]: _J["spine1"], _J["spine1"]: _J["spine2"], _J["spine2"]: _J["spine3"], _J["spine3"]: _J["neck"],
    _J["neck"]: _J["head"], _J["head"]: None,
    **{_J[f"{s}_hip"]: _J[f"{s}_knee"] for s in ("left", "right")},
    **{_J[f"{s}_knee"]: _J[f"{s}_ankle"] for s in ("left", "right")},
    **{_J[f"{s}_ankle"]: _J[f"{s}_foot"] for s in ("left", "right")},
    **{_J[f"{s}_foot"]: None for s in ("left", "right")},
    **{_J[f"{s}_collar"]: _J[f"{s}_shoulder"] for s in ("left", "right")},
    **{_J[f"{s}_shoulder"]: _J[f"{s}_elbow"] for s in ("left", "right")},
    **{_J[f"{s}_elbow"]: _J[f"{s}_wrist"] for s in ("left", "right")},
    **{_J[f"{s}_wrist"]: _J[f"{s}_hand"] for s in ("left", "right")},
    **{_J[f"{s}_hand"]: None for s in ("left", "right")},
}  # fmt: skip


class RetargetError(ValueError):
    """The source or the map cannot drive the target (no hips, a source that is not SMPL, ...)."""


@dataclass(frozen=True)
class SourceMotion:
    """One CrowdMocap person: its armature and its pose on every frame to bake."""

    skeleton: Skeleton  # must hold the 24 SMPL joint names
    frames: np.ndarray  # (T,) scene frames
    pose: np.ndarray  # (T, B, 4, 4) armature-space pose matrices, in skeleton order
    contacts: np.ndarray | None = None  # (T, 2) left/right foot contact probabilities, None if unknown


@dataclass(frozen=True)
class TargetRig:
    """A target armature and which of its bones each SMPL joint drives (indices into its skeleton)."""

    skeleton: Skeleton
    joints: Mapping[int, int]  # SMPL joint index -> target bone index
    root: int | None = None  # the root-motion bone, when the rig has one

    def __post_init__(self) -> None:
        if _J["pelvis"] not in self.joints:
            raise RetargetError("the bone map drives no bone of the rig from the pelvis: map 'pelvis' to its hips")

    @property
    def hips(self) -> int:
        return self.joints[_J["pelvis"]]


@dataclass(frozen=True)
class RetargetOptions:
    root_motion: str = "HIPS"  # "HIPS" | "PATH" | "IN_PLACE" | "ROOT_BONE"
    foot_pin: bool = True
    blend_frames: int = 4
    contact_threshold: float = 0.5
    # Pins let go where the hips jump (a step five times the clip's median and over 5 cm: core.legs.jump_frames),
    # and pin again where the foot lands; held across a jump, legs bent up to 72 degrees away from the motion.
    pin_release: bool = True

    def __post_init__(self) -> None:
        if self.root_motion not in ROOT_MOTION_MODES:
            raise ValueError(f"root_motion must be one of {ROOT_MOTION_MODES}, not {self.root_motion!r}")


@dataclass(kw_only=True)
class RetargetedMotion:
    """The baked result for one target: pose channels of the driven bones on every frame."""

    frames: np.ndarray  # (T,)
    rotations: dict[int, np.ndarray]  # target bone -> (T, 3, 3) pose-channel (local) rotations
    locations: dict[int, np.ndarray]  # target bone -> (T, 3) pose-channel locations (hips, root)
    world_rotations: dict[int, np.ndarray]  # target bone -> (T, 3, 3) the world rotations they produce
    pose: np.ndarray  # (T, B, 4, 4) the target's armature-space pose
    scale: float  # the hip-height ratio applied to the root motion
    pin_weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # (T, 2) left/right pin strength
    notes: list[str] = field(default_factory=list)  # what was approximated, for the report


def source_indices(skeleton: Skeleton) -> list[int]:
    """SMPL joint index -> the source skeleton's bone index; RetargetError if a joint is missing."""
    missing = [name for name in JOINT_NAMES if name not in skeleton.names]
    if missing:
        raise RetargetError(f"the source is not a CrowdMocap armature: no bones {', '.join(missing[:5])}")
    return [skeleton.index(name) for name in JOINT_NAMES]


def _aim(joint: int, mapped: Mapping[int, int]) -> int | None:
    """The first mapped joint down ``joint``'s chain of aim children."""
    child = AIM_CHILD[joint]
    while child is not None and child not in mapped:
        child = AIM_CHILD[child]
    return child


def _facing_turn(src_heads: np.ndarray, tgt_heads: dict[int, np.ndarray]) -> np.ndarray:
    """(3, 3) turn about world Z taking the target's rest left-right axis onto the source's."""
    for part in ("hip", "shoulder", "collar"):
        a, b = _J[f"left_{part}"], _J[f"right_{part}"]
        if a in tgt_heads and b in tgt_heads:
            target = (tgt_heads[a] - tgt_heads[b]) * [1.0, 1.0, 0.0]
            source = (src_heads[a] - src_heads[b]) * [1.0, 1.0, 0.0]
            if np.linalg.norm(target) > 1e-9 and np.linalg.norm(source) > 1e-9:
                return swing_rotation(target, source)
    return np.eye(3)


def rest_alignment(
    src_rest_world: np.ndarray, tgt_rest_world: np.ndarray, joints: Mapping[int, int]
) -> dict[int, np.ndarray]:
    """A_b per mapped SMPL joint: (24, 4, 4) source and (B, 4, 4) target rest world matrices -> {joint: (3, 3)}."""
    src_heads = src_rest_world[:, :3, 3]
    tgt_heads = {joint: tgt_rest_world[bone, :3, 3] for joint, bone in joints.items()}
    turn = _facing_turn(src_heads, tgt_heads)
    align: dict[int, np.ndarray] = {}
    for joint in range(len(JOINT_NAMES)):  # parents before children
        if joint not in joints:
            continue
        aim = _aim(joint, joints)
        if aim is not None:
            target_dir = turn @ (tgt_heads[aim] - tgt_heads[joint])
            source_dir = src_heads[aim] - src_heads[joint]
            if np.linalg.norm(target_dir) > 1e-9 and np.linalg.norm(source_dir) > 1e-9:
                align[joint] = swing_rotation(target_dir, source_dir) @ turn
                continue
        ancestor = PARENTS[joint]
        while ancestor >= 0 and ancestor not in align:
            ancestor = PARENTS[ancestor]
        align[joint] = align[ancestor] if ancestor >= 0 else turn
    return align


def hip_height_ratio(src_heads: np.ndarray, tgt_heads: Mapping[int, np.ndarray]) -> float | None:
    """Target over source hip height (pelvis above the mean ankle, world Z, rest); None if not measurable."""
    ankles = [_J["left_ankle"], _J["right_ankle"]]
    if _J["pelvis"] not in tgt_heads or not all(ankle in tgt_heads for ankle in ankles):
        return None
    source = src_heads[_J["pelvis"], 2] - np.mean([src_heads[ankle, 2] for ankle in ankles])
    target = tgt_heads[_J["pelvis"]][2] - np.mean([tgt_heads[ankle][2] for ankle in ankles])
    if source <= 1e-6 or target <= 1e-6:
        return None
    return float(target / source)


def _to_armature(object_matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(T, 3) world points -> (T, 3) in the armature's space (object scale included)."""
    inverse = np.linalg.inv(object_matrix)
    return points @ inverse[:3, :3].T + inverse[:3, 3]


def _solve(
    rig: TargetRig,
    wanted: Mapping[int, np.ndarray],
    heads: Mapping[int, np.ndarray],
    frames: int,
    *,
    previous: tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]] | None = None,
    changed: set[int] | None = None,
) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Pose channels from wanted armature-space rotations {bone: (T, 3, 3)} and heads {bone: (T, 3)}.

    Parents first: each bone's channel is solved in its parent's posed frame; others stay at rest.
    Returns the pose (T, B, 4, 4), {bone: local rotation} and {bone: local location}. Given a ``previous``
    solve and the bones whose wishes ``changed``, only those bones and what hangs below them are redone.
    """
    skeleton = rig.skeleton
    count = len(skeleton.names)
    if previous is None:
        pose, rotations, locations = np.empty((frames, count, 4, 4)), {}, {}
        redo = set(range(count))
    else:
        pose, rotations, locations = previous[0].copy(), dict(previous[1]), dict(previous[2])
        redo = set(changed or ())
        for bone in range(count):  # parents first: a bone is redone when its parent (or copied bone) is
            if skeleton.parents[bone] in redo or skeleton.copied_from(bone) in redo:
                redo.add(bone)
    identity = np.broadcast_to(np.eye(4), (frames, 4, 4))
    for bone in sorted(redo):
        if skeleton.copied_from(bone) >= 0:  # follows another bone whatever its own channels say
            pose[:, bone] = pose[:, skeleton.copied_from(bone)]
            continue
        frame = parent_frame(skeleton, bone, pose)
        if bone not in wanted and bone not in heads:
            pose[:, bone] = frame
            continue
        basis = identity.copy()
        if bone in wanted:
            rotations[bone] = local_rotation(frame, wanted[bone])
            basis[:, :3, :3] = rotations[bone]
        if bone in heads:
            locations[bone] = local_location(frame, heads[bone])
            basis[:, :3, 3] = locations[bone]
        pose[:, bone] = apply_basis(frame, basis)
    return pose, rotations, locations


def _root_heads(
    rig: TargetRig, src_pelvis: np.ndarray, scale: float, options: RetargetOptions
) -> tuple[dict[int, np.ndarray], list[str]]:
    """World heads {bone: (T, 3)} for the hips (and the root bone) under the chosen root-motion mode."""
    notes: list[str] = []
    tgt_rest = rig.skeleton.world_rest()
    hips_rest = tgt_rest[rig.hips, :3, 3]
    start = src_pelvis[0]
    hips = np.empty_like(src_pelvis)
    hips[:, :2] = start[:2] + scale * (src_pelvis[:, :2] - start[:2])
    hips[:, 2] = scale * src_pelvis[:, 2]
    heads = {rig.hips: hips}
    if options.root_motion == "PATH":
        hips[:, :2] = src_pelvis[:, :2]
    elif options.root_motion == "IN_PLACE":
        hips[:, :2] = hips_rest[:2]
    elif options.root_motion == "ROOT_BONE":
        if rig.root is None or rig.root == rig.hips:
            notes.append("the rig has no separate root bone: root motion stays on the hips")
        else:
            root = np.broadcast_to(tgt_rest[rig.root, :3, 3], hips.shape).copy()
            root[:, :2] += hips[:, :2] - hips_rest[:2]
            heads[rig.root] = root
    return heads, notes


def _pin_feet(
    rig: TargetRig, source: SourceMotion, world: dict[int, np.ndarray], pose: np.ndarray, options: RetargetOptions
) -> np.ndarray:
    """Swing thigh and calf world rotations (in ``world``, in place) so planted ankles stay put; (T, 2) weights."""
    frames = pose.shape[0]
    weights = np.zeros((frames, 2))
    if source.contacts is None:
        return weights
    to_world = rig.skeleton.object_matrix
    heads = pose[:, :, :3, 3] @ to_world[:3, :3].T + to_world[:3, 3]  # (T, B, 3) world
    jumps = jump_frames(heads[:, rig.hips]) if options.pin_release else None
    for column, (hip_j, knee_j, ankle_j, toe_j) in enumerate(SMPL_LEGS):
        if not all(joint in rig.joints for joint in (hip_j, knee_j, ankle_j)):
            continue
        thigh, calf, foot = (rig.joints[joint] for joint in (hip_j, knee_j, ankle_j))
        hip, knee, ankle = heads[:, thigh], heads[:, calf], heads[:, foot]
        schedule = pin_schedule(ankle, source.contacts[:, column], threshold=options.contact_threshold,
                                blend=options.blend_frames, cuts=jumps)  # fmt: skip
        active = schedule.weights > 0
        if not np.any(active):
            continue
        toe = rig.joints.get(toe_j)
        forward = heads[:, toe] - ankle if toe is not None else np.broadcast_to([0.0, -1.0, 0.0], ankle.shape)
        new_knee, new_ankle = two_bone_ik(
            hip[active], knee[active], ankle[active], schedule.targets[active], forward[active]
        )
        thigh_swing, calf_swing = leg_swings(hip[active], knee[active], ankle[active], new_knee, new_ankle)
        world[thigh][active] = thigh_swing @ world[thigh][active]
        world[calf][active] = calf_swing @ world[calf][active]
        weights[:, column] = schedule.weights
    return weights


def retarget_motion(source: SourceMotion, rig: TargetRig, options: RetargetOptions | None = None) -> RetargetedMotion:
    """Transfer one person's motion onto ``rig``: pose channels for every mapped bone on every frame."""
    options = options or RetargetOptions()
    src_index = source_indices(source.skeleton)
    frames = len(source.frames)
    src_rest_world = source.skeleton.world_rest()[src_index]  # (24, 4, 4), SMPL order
    src_world = source.skeleton.object_matrix @ source.pose[:, src_index]  # (T, 24, 4, 4)
    tgt_rest_world = rig.skeleton.world_rest()

    align = rest_alignment(src_rest_world, tgt_rest_world, rig.joints)
    src_rest_rot = rotation_part(src_rest_world)
    src_rot = rotation_part(src_world)
    tgt_rest_rot = rotation_part(tgt_rest_world)
    world: dict[int, np.ndarray] = {}
    for joint, bone in rig.joints.items():
        offset = src_rest_rot[joint].T @ align[joint] @ tgt_rest_rot[bone]  # S⁰⁻¹ · A · T⁰, fixed per bone
        world[bone] = src_rot[:, joint] @ offset

    tgt_heads = {joint: tgt_rest_world[bone, :3, 3] for joint, bone in rig.joints.items()}
    ratio = hip_height_ratio(src_rest_world[:, :3, 3], tgt_heads)
    notes = [] if ratio is not None else ["the hips or ankles are not mapped: root motion is not scaled"]
    scale = 1.0 if ratio is None else ratio
    head_world, root_notes = _root_heads(rig, src_world[:, _J["pelvis"], :3, 3], scale, options)
    notes += root_notes
    heads = {bone: _to_armature(rig.skeleton.object_matrix, points) for bone, points in head_world.items()}

    object_rot = rotation_part(rig.skeleton.object_matrix)
    to_armature = {bone: object_rot.T @ rotation for bone, rotation in world.items()}
    pose, rotations, locations = _solve(rig, to_armature, heads, frames)
    weights = np.zeros((frames, 2))
    if options.foot_pin:
        if source.contacts is None:
            notes.append("the source has no foot-contact curves: feet are not pinned")
        weights = _pin_feet(rig, source, world, pose, options)
        if np.any(weights > 0):
            legs = {rig.joints[joint] for leg in SMPL_LEGS for joint in (leg.hip, leg.knee) if joint in rig.joints}
            to_armature.update({bone: object_rot.T @ world[bone] for bone in legs})
            first = (pose, rotations, locations)
            pose, rotations, locations = _solve(rig, to_armature, heads, frames, previous=first, changed=legs)
    return RetargetedMotion(
        frames=np.asarray(source.frames, dtype=np.float64),
        rotations=rotations,
        locations=locations,
        world_rotations=world,
        pose=pose,
        scale=scale,
        pin_weights=weights,
        notes=notes,
    )
