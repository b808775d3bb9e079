"""``GET /v1/health``: version, device, usable components, missing model files, and whether jobs can run."""

from __future__ import annotations

from fastapi import APIRouter

from ... import __version__
from ..context import Ctx
from ..schemas import ComponentStatus, Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Server version, device and which components are usable")
def health(ctx: Ctx) -> Health:
    found = ctx.components()
    device = "cpu" if ctx.settings.device == "cpu" else str(found["device"])
    problems = ctx.jobs.problems + ctx.worker.problems
    return Health(
        status="degraded" if problems else "ok",
        problems=problems,
        version=__version__,
        device=device,
        estimators={name: ComponentStatus(**status) for name, status in found["estimators"].items()},
        pose_backends={name: ComponentStatus(**status) for name, status in found["pose_backends"].items()},
        missing_models=list(found["missing_models"]),
        token_required=ctx.token is not None,
        max_upload_mb=ctx.settings.max_upload_mb,
        path_submission=bool(ctx.settings.allowed_paths),
    )
