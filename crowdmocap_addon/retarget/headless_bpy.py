"""``crowdmocap-blender retarget SCENE.blend --rig RIG.fbx|RIG.blend ... -o OUT.blend``, headless.

The same worker as the panel's Retarget to Rig. An FBX rig is imported with Blender's FBX importer; a
.blend rig is appended (its first armature object by name, with its child meshes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.options import RETARGET_OPTIONS
from .presets import BoneMapError
from .transfer import ROOT_MOTION_MODES, RetargetError, RetargetOptions

_ROOT_MOTION = {mode.lower().replace("_", "-"): mode for mode in ROOT_MOTION_MODES}  # "in-place" -> "IN_PLACE"


def load_rig(path: Path):
    """Bring the rig into the open scene and return its armature object (FileNotFoundError if there is none)."""
    import bpy

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such rig file")
    suffix = path.suffix.lower()
    if suffix == ".fbx":
        before = set(bpy.data.objects)
        bpy.ops.import_scene.fbx(filepath=str(path))
        armatures = sorted((obj for obj in bpy.data.objects if obj not in before and obj.type == "ARMATURE"),
                           key=lambda obj: obj.name)  # fmt: skip
        if not armatures:
            raise FileNotFoundError(f"{path}: the FBX file holds no armature")
        return armatures[0]
    if suffix != ".blend":
        raise FileNotFoundError(f"{path}: a rig must be an .fbx or a .blend file")
    with bpy.data.libraries.load(str(path), link=False) as (source, loaded):
        loaded.objects = list(source.objects)
    objects = [obj for obj in loaded.objects if obj is not None]
    armatures = sorted((obj for obj in objects if obj.type == "ARMATURE"), key=lambda obj: obj.name)
    if not armatures:
        bpy.data.batch_remove(objects)
        raise FileNotFoundError(f"{path}: the .blend file holds no armature object")
    rig = armatures[0]
    keep = [rig] + [obj for obj in objects if obj.parent is rig and obj.type == "MESH"]
    for obj in keep:
        bpy.context.scene.collection.objects.link(obj)
    bpy.data.batch_remove([obj for obj in objects if obj not in keep])
    return rig


def _cmd_retarget(args: argparse.Namespace) -> int:
    import bpy

    from ..blend_file_bpy import open_blend, pick_armatures, report_to_stderr, save_blend
    from .retarget_bpy import is_crowdmocap_armature, retarget

    open_blend(args.scene)
    people = pick_armatures(args.scene, is_crowdmocap_armature, args.person, "CrowdMocap people")
    try:
        if len(people) > 1 and not args.per_person:
            raise RetargetError(f"{len(people)} people in {args.scene.name} for one rig: drop --no-per-person, "
                                "or pick one with --person NAME")  # fmt: skip
        rig = load_rig(args.rig)
        options = RetargetOptions(root_motion=_ROOT_MOTION[args.root_motion], foot_pin=args.foot_pin,
                                  blend_frames=args.blend_frames)  # fmt: skip
        result = retarget(bpy.context, people, rig, preset=args.preset, per_person=args.per_person,
                          options=options, report=report_to_stderr)  # fmt: skip
    except (RetargetError, BoneMapError) as exc:
        print(f"crowdmocap-blender: error: {exc}", file=sys.stderr)
        return 1
    out = save_blend(args.output)
    print(f"{out}: {len(result.targets)} retargeted onto '{rig.name}' with bone map '{result.bone_map.name}'")
    return 0


def add_retarget_command(commands: argparse._SubParsersAction) -> None:
    retarget = commands.add_parser(
        "retarget", help="retarget the people of a .blend scene onto a rig (FBX or .blend)",
        description="Retarget the CrowdMocap people of SCENE onto the rig in RIG (an FBX, or the first armature "
        "of a .blend): one copy of the rig per person (default), or with --no-per-person the rig itself, for one "
        "person. The bone map is "
        "detected from the rig's bone names unless --preset names one (a shipped preset or one you saved).",
    )  # fmt: skip
    retarget.add_argument("scene", type=Path, help="a .blend file with CrowdMocap people")
    retarget.add_argument("--rig", type=Path, required=True, help="the target rig: an .fbx or a .blend file")
    retarget.add_argument(
        "--preset", default="auto", help="auto (default), mixamo, ue5, unity, rigify, rigify_deform, smpl, or yours"
    )
    per_person = RETARGET_OPTIONS["duplicate_per_person"]
    retarget.add_argument("--per-person", action=argparse.BooleanOptionalAction, default=per_person.default,
                          help=per_person.help + "; --no-per-person animates the rig itself (one person)")  # fmt: skip
    retarget.add_argument("--person", nargs="+", metavar="NAME", help="only these people (e.g. street_Person_007)")
    retarget.add_argument("--no-foot-pin", dest="foot_pin", action="store_false", help="do not pin planted feet")
    retarget.add_argument("--root-motion", choices=tuple(_ROOT_MOTION), default="hips",
                          help="where horizontal motion goes (default hips)")  # fmt: skip
    retarget.add_argument("--blend-frames", type=int, default=4, help="frames a foot pin fades over (default 4)")
    retarget.add_argument("-o", "--output", type=Path, required=True, help="the .blend file to write")
    retarget.set_defaults(run=_cmd_retarget)
