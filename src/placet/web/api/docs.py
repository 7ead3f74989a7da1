"""The REST API's interactive docs at /docs, served from this machine.

FastAPI's own /docs page loads Swagger UI from a CDN, so on a machine without
internet it is blank. Here the viewer's files come from the ``fastapi-offline``
package (only its files: Swagger UI 5, which reads OpenAPI 3.1) and it is
started by our own script, so the page needs nothing from outside and keeps a
strict Content-Security-Policy (no inline script).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS = "/static/swagger"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Placet REST API</title>
<link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/apidocs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


def swagger_ui_dir() -> Path | None:
    """Swagger UI's files inside the fastapi-offline package, if it is installed."""
    try:
        static = Path(str(importlib.resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None
    return static if (static / "swagger-ui-bundle.js").is_file() else None


@router.get(DOCS_PATH, response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """Swagger UI over /openapi.json."""
    if swagger_ui_dir() is None:
        raise HTTPException(404, "install fastapi-offline for /docs; /openapi.json is there")
    return HTMLResponse(PAGE)


def mount(app: FastAPI) -> None:
    """Serve /docs and Swagger UI's files; must come before the /static mount."""
    app.include_router(router)
    assets = swagger_ui_dir()
    if assets is not None:
        app.mount(ASSETS, StaticFiles(directory=assets), name="swagger")
