"""``GET /v1/health``: version, device, usable estimators and pose backends, missing model files."""

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
    return Health(
        version=__version__,
        device=device,
        estimators={name: ComponentStatus(**status) for name, status in found["estimators"].items()},
        pose_backends={name: ComponentStatus(**status) for name, status in found["pose_backends"].items()},
        missing_models=list(found["missing_models"]),
        token_required=ctx.token is not None,
        max_upload_mb=ctx.settings.max_upload_mb,
        path_submission=bool(ctx.settings.allowed_paths),
    )
