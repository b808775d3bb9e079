"""The versioned API: one router per resource under ``/v1``, all behind the token check."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..schemas import ErrorResponse
from ..security import bearer_scheme, require_token
from . import health, jobs, uploads

COMMON_ERRORS = {401: {"model": ErrorResponse, "description": "missing or wrong bearer token"},
                 422: {"model": ErrorResponse, "description": "the request does not match the schema"}}  # fmt: skip


def api_router() -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=[Depends(bearer_scheme), Depends(require_token)],
                       responses=COMMON_ERRORS)  # type: ignore[arg-type]  # fmt: skip
    router.include_router(health.router)
    router.include_router(uploads.router)
    router.include_router(jobs.router)
    return router
