"""``crowdmocap-blender``: the add-on's own code driven headless through the ``bpy`` module.

For pipelines and render farms: no Blender UI, same functions the panel calls. Bad input exits 1
with a message; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .core.body.smpl_file import SmplModelError
from .core.plausibility import assess, format_report
from .core.result.reader import read_result
from .core.result.schema import ResultFormatError
from .core.result.summary import summary_lines
from .export.headless_bpy import add_export_command
from .export.presets import BvhExportError
from .export.scope import ExportScopeError
from .retarget.headless_bpy import add_retarget_command


def _cmd_version(args: argparse.Namespace) -> int:
    import bpy

    print(f"crowdmocap-blender {__version__} (Blender {bpy.app.version_string})")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    result = read_result(args.result)
    print("\n".join(summary_lines(result, str(args.result))))
    if args.quality:
        print(format_report(assess(result)))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    import bpy

    from .blend_file_bpy import report_to_stderr, save_blend
    from .scene.build_bpy import import_result

    bpy.ops.wm.read_factory_settings(use_empty=True)
    capture = import_result(
        bpy.context,
        args.result,
        smpl_model_path=args.smpl_model,
        align_to_ground=args.ground_align,
        footage=args.footage,
        report=report_to_stderr,
    )
    out = save_blend(args.output)
    print(f"{out}: {len(capture.armatures)} people, {capture.body_kind} bodies, camera {capture.camera.name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crowdmocap-blender", description="Build CrowdMocap scenes in Blender, headless."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("version", help="print the add-on and Blender versions").set_defaults(run=_cmd_version)
    info = commands.add_parser("info", help="summarise a result file")
    info.add_argument("result", type=Path, help="a CrowdMocap result .npz")
    info.add_argument("--quality", action="store_true", help="add the motion-plausibility report")
    info.set_defaults(run=_cmd_info)
    build = commands.add_parser("import", help="build a result into a new .blend scene")
    build.add_argument("result", type=Path, help="a CrowdMocap result .npz")
    build.add_argument("-o", "--output", type=Path, required=True, help="the .blend file to write")
    build.add_argument("--smpl-model", type=Path, help="your SMPL model file or folder (default: stand-in bodies)")
    build.add_argument("--footage", type=Path, help="the video behind the camera "
                       "(default: the result's video.path, looked for beside the result)")  # fmt: skip
    build.add_argument(
        "--no-ground-align", dest="ground_align", action="store_false", help="keep the camera at the origin"
    )
    build.set_defaults(run=_cmd_import)
    add_export_command(commands)
    add_retarget_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ResultFormatError, SmplModelError, ExportScopeError, BvhExportError, OSError) as exc:
        print(f"crowdmocap-blender: error: {exc}", file=sys.stderr)
        return 1
    except (RuntimeError, ValueError, OverflowError) as exc:  # what bpy raises; the scene is rolled back
        print(f"crowdmocap-blender: error: Blender refused the request: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
