"""The versioned API: one router per resource under ``/v1``, all behind the token check.

FastAPI and the route modules load inside ``api_router``, so no package ``__init__`` imports FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter


def _common_errors() -> dict[int | str, dict[str, Any]]:
    from ..schemas import ErrorResponse

    return {401: {"model": ErrorResponse, "description": "missing or wrong bearer token"},
            422: {"model": ErrorResponse, "description": "the request does not match the schema"}}  # fmt: skip


def api_router() -> APIRouter:
    from fastapi import APIRouter, Depends

    from ..security import bearer_scheme, require_token
    from . import health, jobs, uploads

    router = APIRouter(prefix="/v1", dependencies=[Depends(bearer_scheme), Depends(require_token)],
                       responses=_common_errors())  # type: ignore[arg-type]  # fmt: skip
    router.include_router(health.router)
    router.include_router(uploads.router)
    router.include_router(jobs.router)
    return router
