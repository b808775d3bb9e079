"""``POST /v1/uploads``: the raw video as the request body, streamed to disk and probed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ..context import Ctx
from ..schemas import ErrorResponse, UploadInfo

router = APIRouter(tags=["uploads"])

RAW_BODY = {
    "requestBody": {
        "required": True,
        "description": "the video file's bytes, as they are (not a multipart form)",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "video/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/uploads",
    response_model=UploadInfo,
    status_code=201,
    summary="Upload a video (raw body); it is probed and described",
    openapi_extra=RAW_BODY,
    responses={
        400: {"model": ErrorResponse, "description": "empty or incomplete body"},
        413: {"model": ErrorResponse, "description": "larger than --max-upload-mb"},
        415: {
            "model": ErrorResponse,
            "description": "Content-Type missing or not application/octet-stream or "
            "video/* (unsupported_media_type), or not a readable video (unreadable_video)",
        },
        507: {"model": ErrorResponse, "description": "the server's disk is full"},
    },
)
async def create_upload(
    request: Request,
    ctx: Ctx,
    filename: Annotated[
        str | None, Query(max_length=1024, description="the file's name, shown back in job listings")
    ] = None,
) -> UploadInfo:
    return UploadInfo(**await ctx.uploads.receive(request, filename))
