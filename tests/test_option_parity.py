"""Every surface of an option agrees with the one option table (``crowdmocap_addon.core.options``).

The server's ``CaptureOptions``, the HTTP ``JobOptions``, the CLI's ``process`` flags and the add-on's
request builder are checked here; the Blender surfaces (scene settings, preferences, panel, retarget
operator) in ``tests/crowdmocap_addon/test_option_parity_blender.py``. What a surface leaves out is
listed with the reason, so a new option cannot silently miss one.
"""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from crowdmocap_addon.client.job_options import job_options
from crowdmocap_addon.core.options import CAPTURE_OPTIONS, CLI, HTTP, PANEL, Option, on
from inference_server.pipeline.options import CaptureOptions, OptionsError

# CaptureOptions fields that are not in the table, and why.
CLI_ONLY = {
    # model files and the device are the server machine's own: the CLI names them, the HTTP API never does
    "pose_model", "detector_model", "checkpoint", "smpl_model", "vposer", "models_dir", "device",
    # frame range and selection: the panel shows them as frame_start / frame_end (inclusive) / max_people 0,
    # mapped to these by crowdmocap_addon.client.job_options
    "start", "stop", "stride", "max_people",
    # the focal length's four forms: the panel has one focal-mode switch instead
    "focal_px", "focal_mm", "sensor_width_mm", "fov_deg",
}  # fmt: skip
HTTP_NOT_CAPTURE = {"preview"}  # a job's own request, not a capture choice


def _process_parser(command: str = "process") -> argparse.ArgumentParser:
    from inference_server.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[command]


def test_batch_takes_every_capture_flag_of_process_with_the_same_defaults():
    def capture_flags(command: str) -> dict[str, tuple]:
        own = {"help", "video", "output", "preview", "json", "inputs", "address", "num_cpus", "cpus_per_clip",
               "gpus_per_clip", "segment_frames", "segment_overlap"}  # fmt: skip
        return {a.dest: (tuple(a.option_strings), a.default, a.choices) for a in _process_parser(command)._actions
                if a.dest not in own}  # fmt: skip

    assert capture_flags("batch") == capture_flags("process")


def test_capture_options_are_the_table_plus_the_reasoned_cli_only_fields():
    names = {f.name for f in dataclasses.fields(CaptureOptions)}
    assert names == set(CAPTURE_OPTIONS) | CLI_ONLY
    defaults = CaptureOptions()
    for name, option in CAPTURE_OPTIONS.items():
        assert getattr(defaults, name) == option.default, name


@pytest.mark.parametrize("option", CAPTURE_OPTIONS.values(), ids=lambda o: o.name)
def test_capture_options_refuse_what_the_table_refuses(option: Option):
    outside = []
    if option.choices:
        outside.append("no-such-choice")
    if option.minimum is not None:
        outside.append(option.kind(option.minimum) - (1 if option.kind is int else 0.5))
    if option.maximum is not None:
        outside.append(option.kind(option.maximum) + (1 if option.kind is int else 0.5))
    for value in outside:
        with pytest.raises(OptionsError, match=option.name):
            CaptureOptions(**{option.name: value})


def test_http_job_options_hold_the_http_options_with_the_tables_defaults_and_bounds():
    from inference_server.server.schemas import JobOptions

    fields = JobOptions.model_fields
    assert set(fields) == set(on(HTTP, CAPTURE_OPTIONS)) | (CLI_ONLY - {"pose_model", "detector_model", "checkpoint",
                          "smpl_model", "vposer", "models_dir", "device"}) | HTTP_NOT_CAPTURE  # fmt: skip
    for name, option in on(HTTP, CAPTURE_OPTIONS).items():
        field = fields[name]
        assert field.default == option.default and field.description == option.help, name
        bounds = {type(m).__name__: m for m in field.metadata}
        if option.minimum is not None:
            assert bounds["Ge"].ge == option.minimum, name
        if option.maximum is not None:
            assert bounds["Le"].le == option.maximum, name


def test_cli_process_flags_carry_the_tables_defaults():
    actions = {action.dest: action for action in _process_parser()._actions}
    for name, option in on(CLI, CAPTURE_OPTIONS).items():
        if option.kind is bool:  # the CLI offers the switch away from the default
            flag = actions[name]
            switch = f"--no-{name.replace('_', '-')}" if option.default else f"--{name.replace('_', '-')}"
            assert flag.option_strings == [switch] and flag.default is option.default, name
            kind = argparse._StoreFalseAction if option.default else argparse._StoreTrueAction
            assert isinstance(flag, kind), name
        else:
            flag = actions[name]
            assert flag.option_strings[-1] == f"--{name.replace('_', '-')}", name
            assert flag.default == option.default, name
            if option.choices:
                assert tuple(flag.choices) == option.choices, name


def test_every_cli_option_reaches_the_capture(tmp_path):
    """Each table flag, given a non-default value on the command line, arrives in CaptureOptions."""
    from inference_server.cli_process import capture_options

    argv = ["process", str(tmp_path / "clip.mp4"), "-o", str(tmp_path / "r.npz")]
    wanted = {}
    for name, option in on(CLI, CAPTURE_OPTIONS).items():
        flag = name.replace("_", "-")
        if option.kind is bool:
            argv.append(f"--no-{flag}" if option.default else f"--{flag}")
            wanted[name] = not option.default
        else:
            value = option.choices[-1] if option.choices else option.kind(option.minimum if option.minimum else 0) + 2
            if option.maximum is not None:
                value = min(value, option.kind(option.maximum))
            argv += [f"--{flag}", str(value)]
            wanted[name] = value
    options = capture_options(_process_parser().parse_args(argv[1:]))
    assert {name: getattr(options, name) for name in wanted} == wanted


def test_the_addons_request_sends_every_panel_option_with_the_tables_defaults():
    sent = job_options()
    for name, option in on(PANEL, CAPTURE_OPTIONS).items():
        assert sent[name] == option.default, name
