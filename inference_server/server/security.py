"""The bearer token: made once per data folder, kept there readable by its owner only, checked per request.

A server reachable from other machines (any non-loopback bind, or ``--require-token``) answers only
requests carrying ``Authorization: Bearer <token>``; the comparison takes constant time. The OpenAPI
document says so only when the server it describes needs the token (``describe_security``).
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.security import HTTPBearer

from .errors import ApiError

TOKEN_FILE = "token"
TOKEN_BYTES = 32

# Declares the scheme in the OpenAPI document (Swagger's "Authorize" button); checking is done below.
bearer_scheme = HTTPBearer(auto_error=False, description="needed when the server is bound for remote use")
BEARER_SCHEME = "HTTPBearer"  # its name in components.securitySchemes
REQUIRED = (
    "this server requires it on every /v1 route: 'Authorization: Bearer <token>', the token being in the file "
    "'token' in the server's data folder"
)
NOT_SENT = "missing or wrong bearer token: only a server that requires the token answers this; this one does not"


def load_or_create_token(data_dir: Path) -> tuple[str, bool]:
    """(token, created): an existing token is reused; a new one is written with mode 0600."""
    path = data_dir / TOKEN_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        token = ""
    if token:
        return token, False
    token = secrets.token_urlsafe(TOKEN_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)  # O_CREAT's mode is masked by the umask and ignored for an existing file
    return token, True


def describe_security(schema: dict[str, Any], token_required: bool) -> dict[str, Any]:
    """The generated OpenAPI document, changed in place to tell the truth about the token.

    FastAPI lists the bearer scheme on every route, as if it were always needed. A server that requires
    the token keeps that (with a description saying so); one that does not loses the requirement and the
    scheme, so neither Swagger's "Authorize" button nor a generated client asks for a token it never checks.
    """
    schemes = schema.get("components", {}).get("securitySchemes", {})
    if token_required:
        if BEARER_SCHEME in schemes:
            schemes[BEARER_SCHEME]["description"] = REQUIRED
        return schema
    schemes.pop(BEARER_SCHEME, None)
    if not schemes:
        schema.get("components", {}).pop("securitySchemes", None)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            operation.pop("security", None)
            if "401" in operation.get("responses", {}):
                operation["responses"]["401"]["description"] = NOT_SENT
    return schema


def token_matches(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


async def require_token(request: Request) -> None:
    """Route dependency: 401 unless the server needs no token or the request carries the right one."""
    token: str | None = request.app.state.ctx.token
    if token is None:
        return
    if not token_matches(request.headers.get("authorization"), token):
        raise ApiError(
            401, "unauthorized",
            "this server needs 'Authorization: Bearer <token>'; the token is in the file 'token' in the "
            "server's data folder",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
