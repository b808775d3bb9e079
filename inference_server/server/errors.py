"""Every error leaves the server as ``{"error": {"code", "message"}}``: stable codes for clients.

Routes raise ``ApiError``; FastAPI's own 404/405/422 and any unexpected exception are translated here,
once, so no handler ever sends a stack trace (unexpected errors are logged with theirs).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

GENERIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "upload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}
FASTAPI_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's 400 when a body cannot be decoded
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class ApiError(Exception):
    """An error a client can act on: HTTP status, stable code, human message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> str:
    """'body.options.stride: Input should be greater than or equal to 1; ...' (first few problems)."""
    parts = []
    for problem in exc.errors()[:5]:
        where = ".".join(str(part) for part in problem.get("loc", ()))
        parts.append(f"{where}: {problem.get('msg', 'invalid')}" if where else str(problem.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    code = GENERIC_CODES.get(status, f"http_{status}")
    detail = exc.detail if isinstance(exc.detail, str) else None
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    if status == 400 and detail == FASTAPI_PARSE_ERROR:  # a JSON body that is not even UTF-8
        code, detail = "malformed_json", "the request body could not be parsed: send UTF-8 JSON"
    elif status == 404 and detail in (None, "Not Found"):
        detail = f"no such route: {request.method} {request.url.path}"
    headers = getattr(exc, "headers", None)
    if status == 405:
        allowed = ", ".join(allowed_methods(request)) or (headers or {}).get("Allow", "")
        headers = {**(headers or {}), "Allow": allowed}
        if detail in (None, "Method Not Allowed"):
            detail = f"{request.method} is not allowed on {request.url.path} (allowed: {allowed or 'none'})"
    return error_response(status, code, detail or phrase, headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette's 405 names only the first matching route's.

    Each method is tried against the app's routes as they are (FastAPI nests included routers), so this
    needs no knowledge of how routes are stored. Mounted apps (the docs assets) match any method: skipped.
    """
    found = []
    for method in METHOD_ORDER:
        scope = {**request.scope, "method": method}
        if any(not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL for route in request.app.routes):
            found.append(method)
    return found


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 for a body that does not match the schema; 400 for one that is not JSON at all."""
    malformed = [problem for problem in exc.errors() if problem.get("type") == "json_invalid"]
    if malformed:
        reason = malformed[0].get("ctx", {}).get("error") or malformed[0].get("msg", "")
        return error_response(400, "malformed_json", f"the request body is not valid JSON: {reason}")
    return error_response(422, "invalid_request", _describe_validation(exc))


INTERNAL_MESSAGE = "unexpected server error; the details are in the server log"


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", INTERNAL_MESSAGE)


class CatchUnexpected:
    """Pure ASGI middleware: an unexpected exception becomes the JSON 500, and the connection stays usable.

    Starlette's outermost ``ServerErrorMiddleware`` sends its handler's 500 and then re-raises, so uvicorn
    closes the connection: a client that reuses it (keep-alive) gets its next request reset. Handled here,
    inside it, the exception never reaches uvicorn. An error after the answer has started is re-raised:
    the half-sent answer can only be ended by closing the connection (uvicorn logs that traceback).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            log.error("unexpected error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            await error_response(500, "internal_error", INTERNAL_MESSAGE)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
