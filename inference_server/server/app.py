"""``create_app``: the FastAPI application with its stores, worker and routes, from one settings record."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI

from .. import __version__
from .context import ComponentsProvider, ServerContext
from .docs_assets import mount_docs
from .errors import CatchUnexpected, install_error_handlers
from .request_guard import GuardPolicy, RequestGuard
from .routes import api_router
from .schemas import JobStatus
from .security import describe_security, load_or_create_token
from .settings import ServerSettings
from .store import JobStore
from .uploads import UploadStore
from .worker import JobWorker, Runner

log = logging.getLogger(__name__)
TITLE = "CrowdMocap inference server"


def create_app(
    settings: ServerSettings,
    runner: Runner | None = None,
    *,
    components: ComponentsProvider | None = None,
    isolated: bool = True,
) -> FastAPI:
    """Load the job store (re-queueing interrupted jobs); the worker runs while the app is served.

    ``runner`` defaults to the pipeline's ``run_capture`` and ``components`` to ``available_components``
    for the server's models folder; tests pass fakes. Each job's runner call runs in a supervised child
    process (``IsolatedRunner``, so the runner must be picklable) unless ``isolated`` is False, which
    tests use for in-thread fakes.
    """
    if runner is None:
        from ..pipeline.run import run_capture

        runner = run_capture
    if settings.ray_address:  # a Ray worker is the job's own process: a crash there fails the job only
        from .ray_runner import RayRunner

        runner = RayRunner(runner, settings.ray_address)
    elif isolated:
        from .capture_process import IsolatedRunner

        runner = IsolatedRunner(runner)
    if components is None:
        from ..pipeline.components import available_components

        components = partial(available_components, settings.models_dir)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # uploads and the token: owner only
    token = load_or_create_token(settings.data_dir)[0] if settings.token_required else None
    jobs = JobStore(settings.data_dir, servable=lambda record: JobStatus.from_record(record, None))
    worker = JobWorker(jobs, runner, server_options=settings.capture_overrides())
    uploads = UploadStore(settings.data_dir, settings.max_upload_bytes, keep_s=settings.upload_keep_hours * 3600)
    ctx = ServerContext(
        settings=settings, token=token, jobs=jobs, uploads=uploads, worker=worker, components=components
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        try:
            yield
        finally:
            worker.stop()

    app = FastAPI(
        title=TITLE,
        version=__version__,
        description="Crowd footage in, per-person SMPL motion out. Error codes: docs/http-api.md.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_middleware(RequestGuard, policy=GuardPolicy.from_settings(settings))
    app.add_middleware(CatchUnexpected)  # added last: outermost of ours, just inside Starlette's own
    app.include_router(api_router())
    mount_docs(app, TITLE)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            describe_security(FastAPI.openapi(app), settings.token_required)  # FastAPI caches it in openapi_schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    return app
