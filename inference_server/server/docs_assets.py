"""Interactive API docs at ``/docs`` that work offline: Swagger UI's files are served by this server.

The assets come from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, which renders OpenAPI 3.1).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"


def swagger_ui_folder() -> Path:
    import swagger_ui_bundle

    return Path(str(swagger_ui_bundle.swagger_ui_path))


def mount_docs(app: FastAPI, title: str) -> None:
    """``/docs`` (HTML) and ``/docs/assets/*`` (Swagger UI's JS and CSS); neither needs the token."""
    app.mount(ASSETS_URL, StaticFiles(directory=swagger_ui_folder()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} — API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        )
