"""Keep web pages in the user's browser from driving the server: a Host check and a cross-site request check.

A browser lets any page it shows send requests to ``http://127.0.0.1:8765``, and the server's own loopback
bind does not stop that. Two kinds of request get through without the page ever seeing an answer:

- **DNS rebinding**: a page on ``evil.example`` re-points that name at 127.0.0.1; the browser then treats the
  server as the page's own origin, so the page can read job lists and results and delete jobs. Its requests
  still say ``Host: evil.example``: a loopback server answers only Host names that mean this machine.
- **Cross-site "simple" requests**: a form post or a ``fetch`` with a CORS-safelisted Content-Type
  (``text/plain``, ``application/x-www-form-urlencoded``, ``multipart/form-data``) or none at all is sent
  without a CORS preflight. State-changing requests with such a body are refused, and so is any
  state-changing request whose ``Origin`` is another site (browsers send ``Origin`` on those).

Clients that are not browsers (the Blender add-on, curl, scripts) send neither a foreign Host nor an Origin,
and they name the body's real type, so they are not affected. The rules are in docs/http-api.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ApiError, error_response
from .settings import ANY_HOST, ServerSettings, is_loopback, is_wildcard, normalize_host

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The Content-Types a browser sends cross-site without asking the server first (the CORS safelist).
SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
ROUTE_TYPES = "application/json for POST /v1/jobs, application/octet-stream or video/* for POST /v1/uploads"


def host_name(authority: str) -> str | None:
    """The name in a ``Host`` header: ``'[::1]:8765'`` -> ``'::1'``; None when it is not host[:port]."""
    authority = authority.strip()
    if authority.startswith("["):
        name, bracket, rest = authority[1:].partition("]")
        port: str | None = rest[1:] if rest.startswith(":") else (None if rest or not bracket else "")
    else:
        name, _, port = authority.partition(":")
    if port is None or (port and not port.isdigit()):
        return None
    return normalize_host(name) or None


def media_type(content_type: str | None) -> str:
    """``'Text/Plain; charset=utf-8'`` -> ``'text/plain'``; ``''`` when there is none."""
    return (content_type or "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class GuardPolicy:
    """What the guard lets through, derived once from the settings."""

    hosts: frozenset[str] | None  # Host names accepted besides loopback ones; None: any Host (no check)
    origins: frozenset[str]  # other sites' host names whose pages may send state-changing requests

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> GuardPolicy:
        names = set(settings.allowed_hosts)
        if not is_wildcard(settings.host):
            names.add(normalize_host(settings.host))
        return cls(hosts=frozenset(names) if settings.host_check else None, origins=frozenset(settings.allowed_hosts))

    def host_allowed(self, name: str) -> bool:
        return self.hosts is None or name in self.hosts or is_loopback(name)

    def origin_allowed(self, origin: str, host: str) -> bool:
        """The server's own pages (/docs: same host and port as the request), or a site named by --allow-host."""
        if ANY_HOST in self.origins:
            return True
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (a sandboxed frame, a file:// page) or garbage
        if parts.netloc.lower() == host.strip().lower():
            return True
        return normalize_host(parts.hostname or "") in self.origins


class RequestGuard:
    """Pure ASGI middleware: refuse what only a browser tricked by a web page would send, before any route runs."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(scope["method"], scope["path"], _headers(scope["headers"]))
            if refusal is not None:
                response = error_response(refusal.status, refusal.code, refusal.message)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, method: str, path: str, headers: dict[str, str]) -> ApiError | None:
        """The error to answer with, or None to let the request through."""
        host = headers.get("host")
        if host is not None and self.policy.hosts is not None:  # a request without Host is no browser's
            name = host_name(host)
            if name is None:
                return ApiError(421, "host_not_allowed", f"the Host header {host!r} is not a host name")
            if not self.policy.host_allowed(name):
                return ApiError(
                    421, "host_not_allowed",
                    f"this server answers requests addressed to this machine only (localhost, 127.0.0.1, [::1]), "
                    f"not to {name!r}; if you reach it by that name on purpose, start it with --allow-host {name}",
                )  # fmt: skip
        if method in SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None and not self.policy.origin_allowed(origin, host or ""):
            allow = f"--allow-host {normalize_host(urlsplit(origin).hostname or '') or '<name>'}"
            return ApiError(
                403, "cross_origin_request",
                f"a web page from {origin} may not change anything on this server; if that page is yours, start "
                f"the server with {allow}",
            )  # fmt: skip
        media = media_type(headers.get("content-type"))
        if media in SIMPLE_TYPES:
            return ApiError(
                415, "unsupported_media_type",
                f"{method} {path} does not take {media} (a type any web page can send from another site): "
                f"send {ROUTE_TYPES}",
            )  # fmt: skip
        if not media and _has_body(headers):
            message = f"{method} {path} came with a body but no Content-Type: send {ROUTE_TYPES}"
            return ApiError(415, "unsupported_media_type", message)
        return None


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The first value of each header, by lower-case name (ASGI servers send names in lower case)."""
    found: dict[str, str] = {}
    for name, value in raw:
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def _has_body(headers: dict[str, str]) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0").strip() not in ("", "0")


async def require_json(request: Request) -> None:
    """Route dependency for JSON bodies: 415 for any other declared type (FastAPI would try it as JSON)."""
    media = media_type(request.headers.get("content-type"))
    if media and media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise ApiError(415, "unsupported_media_type", f"send the body as application/json (got {media})")
