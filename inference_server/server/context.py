"""What every route needs, built once per app: settings, token, job and upload stores, the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from .settings import ServerSettings
from .store import JobStore
from .uploads import UploadStore
from .worker import JobWorker

ComponentsProvider = Callable[[], dict[str, Any]]  # available_components bound to the models folder


@dataclass(kw_only=True, frozen=True)
class ServerContext:
    settings: ServerSettings
    token: str | None  # None: no token needed (loopback bind without --require-token)
    jobs: JobStore
    uploads: UploadStore
    worker: JobWorker
    components: ComponentsProvider


def get_context(request: Request) -> ServerContext:
    """Route dependency: the app's context (set by ``create_app``)."""
    return request.app.state.ctx


Ctx = Annotated[ServerContext, Depends(get_context)]
