"""``crowdmocap-server serve``: run the HTTP server (FastAPI on uvicorn).

Only argparse is imported here; FastAPI, uvicorn and the pipeline load when the command runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from .defaults import (
    DEFAULT_HOST,
    DEFAULT_MAX_UPLOAD_MB,
    DEFAULT_PORT,
    DEFAULT_UPLOAD_KEEP_HOURS,
    default_data_dir,
)

EXIT_OK, EXIT_USAGE = 0, 2
GRACEFUL_SHUTDOWN_S = 5  # open event streams are closed after this on Ctrl-C


def _cmd_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .security import TOKEN_FILE, load_or_create_token
    from .settings import ServerSettings

    try:
        settings = ServerSettings(
            host=args.host, port=args.port, data_dir=args.data_dir or default_data_dir(),
            allowed_paths=tuple(args.allow_path), max_upload_mb=args.max_upload_mb,
            upload_keep_hours=args.upload_keep_hours,
            require_token=args.require_token, allowed_hosts=tuple(args.allow_host), models_dir=args.models_dir,
            device=args.device, ray_address=args.ray_address,
        )  # fmt: skip
    except ValidationError as exc:
        for problem in exc.errors():
            print(f"crowdmocap-server serve: error: {problem['msg']}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.token_required:
        token, created = load_or_create_token(settings.data_dir)
        if created:
            print(f"bearer token (shown once; stored in {settings.data_dir / TOKEN_FILE}):\n{token}", flush=True)
        else:
            print(f"clients need the bearer token stored in {settings.data_dir / TOKEN_FILE}", flush=True)
    replaced = getattr(args, "pose_backend_factory", None)
    if replaced is None:
        return _serve(settings)
    import functools

    from ..pipeline import run_capture

    return _serve(settings, runner=functools.partial(run_capture, pose_backend_factory=replaced))


def _serve(settings: Any, runner: Any = None) -> int:
    import uvicorn

    from .app import create_app

    app = create_app(settings, runner)
    print(f"data folder: {settings.data_dir}\nAPI docs: http://{settings.host}:{settings.port}/docs", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    return EXIT_OK


def add_serve_command(commands: Any) -> None:
    """Add ``serve`` to the ``crowdmocap-server`` subcommands (``commands`` from add_subparsers)."""
    serve = commands.add_parser(
        "serve", help="run the HTTP server (uploads, capture jobs, results)",
        description="Run the CrowdMocap HTTP API. It listens on 127.0.0.1 only unless --host says otherwise; "
        "any other address needs a bearer token, generated on first start and kept in the data folder. "
        "API docs are served at /docs.",
    )  # fmt: skip
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument(
        "--data-dir", type=Path, help=f"jobs, uploads and the token live here (default {default_data_dir()})"
    )
    serve.add_argument(
        "--allow-path", type=Path, action="append", default=[], metavar="DIR",
        help="let jobs name footage files under DIR on this machine (repeatable); off by default",
    )  # fmt: skip
    serve.add_argument(
        "--max-upload-mb", type=int, default=DEFAULT_MAX_UPLOAD_MB,
        help=f"largest upload accepted, in MB (default {DEFAULT_MAX_UPLOAD_MB})",
    )  # fmt: skip
    serve.add_argument(
        "--upload-keep-hours", type=float, default=DEFAULT_UPLOAD_KEEP_HOURS, metavar="HOURS",
        help=f"delete uploads no job has taken after this long (default {DEFAULT_UPLOAD_KEEP_HOURS:g})",
    )  # fmt: skip
    serve.add_argument("--require-token", action="store_true", help="require the bearer token on loopback too")
    serve.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="also answer requests addressed to NAME (their Host header) and take changes from web pages at NAME "
        "(repeatable; '*': any name). By default a loopback server answers only localhost, 127.x and [::1]",
    )  # fmt: skip
    serve.add_argument(
        "--models-dir", type=Path, help="models folder (default: $CROWDMOCAP_MODELS, else the user data folder)"
    )
    serve.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where jobs run")
    serve.add_argument("--ray-address", metavar="ADDRESS",
                       help="run each job as a task on Ray: local (started in the server), auto, or ray://HEAD:10001 "
                            "(needs crowdmocap[cluster]; docs/batch.md)")  # fmt: skip
    serve.set_defaults(run=_cmd_serve)
