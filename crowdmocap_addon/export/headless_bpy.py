"""``crowdmocap-blender export SCENE.blend --format fbx|glb|bvh ... -o DIR``: the Export crowd operator, headless."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.options import EXPORT_OPTIONS, EXPORT_SCOPES
from .presets import ExportPreset, find_preset

FORMAT_PRESETS = {"fbx": ("unity", "unreal"), "glb": ("godot",), "bvh": ("bvh",)}


def preset_for(file_format: str, preset: str | None) -> ExportPreset:
    """``--format`` and ``--preset`` -> the export preset (FBX defaults to Unity)."""
    allowed = FORMAT_PRESETS[file_format]
    name = preset or allowed[0]
    if name not in allowed:
        raise argparse.ArgumentTypeError(
            f"--preset {name} does not apply to --format {file_format} ({', '.join(allowed)})"
        )
    return find_preset(name)


def _cmd_export(args: argparse.Namespace) -> int:
    import bpy

    from ..blend_file_bpy import open_blend, pick_armatures
    from .export_bpy import armature_kind, export_people
    from .scope import in_scope

    try:
        preset = preset_for(args.format, args.preset)
    except argparse.ArgumentTypeError as exc:
        args.parser.error(str(exc))
    open_blend(args.scene)
    armatures = pick_armatures(args.scene, lambda obj: True, args.person, "armature to export")
    people = [armatures[i] for i in in_scope([armature_kind(a) for a in armatures], args.scope)]

    def progress(done: int, total: int, path: Path) -> None:
        print(f"[{done}/{total}] wrote {path}")

    export_people(bpy.context, people, preset, args.output, capture_name=args.name or args.scene.stem,
                  per_person=args.per_person, include_mesh=not args.no_mesh, start_at_origin=args.start_at_origin,
                  progress=progress)  # fmt: skip
    return 0


def add_export_command(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export", help="export the people of a .blend scene as FBX, glTF (.glb) or BVH files",
        description="Export every armature of SCENE (people imported by CrowdMocap, or characters retargeted from "
        "them) with engine presets: FBX for Unity (default) or Unreal, glTF binary for Godot and the web, BVH per "
        "person for mocap tools. Files are named after each armature (street_Person_007.ext), or NAME_crowd.ext "
        "for one file.",
    )  # fmt: skip
    export.add_argument("scene", type=Path, help="a .blend file")
    export.add_argument("--format", choices=tuple(FORMAT_PRESETS), required=True, help="file format")
    export.add_argument("--preset", choices=("unity", "unreal"), help="FBX flavour (default unity)")
    export.add_argument("--per-person", action="store_true", help="one file per person (BVH always is)")
    export.add_argument("--no-mesh", action="store_true", help="animation and skeleton only")
    scope, origin = EXPORT_OPTIONS["scope"], EXPORT_OPTIONS["start_at_origin"]
    export.add_argument("--scope", choices=EXPORT_SCOPES, default=scope.default, help=f"{scope.help} (default auto)")
    export.add_argument("--start-at-origin", action=argparse.BooleanOptionalAction, default=origin.default,
                        help=origin.help)  # fmt: skip
    export.add_argument("--person", nargs="+", metavar="NAME", help="only these armatures (e.g. street_Person_007)")
    export.add_argument(
        "--name", help="name of the one-file crowd export, NAME_crowd.ext (default: the scene's file name)"
    )
    export.add_argument("-o", "--output", type=Path, required=True, help="folder to write into")
    export.set_defaults(run=_cmd_export, parser=export)
