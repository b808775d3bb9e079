"""The bearer token: made once per data folder, kept there readable by its owner only, checked per request.

A server reachable from other machines (any non-loopback bind, or ``--require-token``) answers only
requests carrying ``Authorization: Bearer <token>``; the comparison takes constant time.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import Request
from fastapi.security import HTTPBearer

from .errors import ApiError

TOKEN_FILE = "token"
TOKEN_BYTES = 32

# Declares the scheme in the OpenAPI document (Swagger's "Authorize" button); checking is done below.
bearer_scheme = HTTPBearer(auto_error=False, description="needed when the server is bound for remote use")


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
