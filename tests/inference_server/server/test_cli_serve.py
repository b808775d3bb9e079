"""``crowdmocap-server serve``: its options, and settings refused before anything starts."""

from __future__ import annotations

import pytest

from inference_server.cli import build_parser, main
from inference_server.server.defaults import DEFAULT_HOST, DEFAULT_PORT, default_data_dir


def test_defaults_bind_loopback_on_the_documented_port():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.data_dir, args.allow_path) == (DEFAULT_HOST, DEFAULT_PORT, None, [])
    assert (args.max_upload_mb, args.require_token, args.device) == (4096, False, "auto")
    assert default_data_dir().parts[-2:] in {("crowdmocap", "server"), ("CrowdMocap", "server")}


def test_allow_path_repeats():
    args = build_parser().parse_args(["serve", "--allow-path", "/a", "--allow-path", "/b"])
    assert [str(path) for path in args.allow_path] == ["/a", "/b"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--allow-path", "MISSING"], "not a folder"), (["--max-upload-mb", "0"], "greater than or equal to 1"),
     (["--port", "70000"], "less than or equal to 65535")],
    ids=["missing-allowed-folder", "zero-upload-limit", "bad-port"],
)  # fmt: skip
def test_bad_settings_exit_with_a_message_before_serving(tmp_path, capsys, extra, message):
    extra = [str(tmp_path / "missing") if value == "MISSING" else value for value in extra]
    assert main(["serve", "--data-dir", str(tmp_path / "data"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # nothing was created
