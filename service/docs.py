"""The interactive docs page, served entirely by the service.

FastAPI's own /docs page loads Swagger UI from a CDN, and is blank where that cannot be
reached (offline, behind a strict proxy). Here the script, styles and icon come from the
fastapi-swagger package, which ships Swagger UI's distribution files, and are served as
static files (with ETag and Last-Modified, so browsers revalidate rather than download).
"""

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
# validatorUrl: Swagger UI would otherwise send the document to an online validator.
UI_PARAMETERS = {"validatorUrl": None}


def install(app: FastAPI) -> None:
    app.mount(ASSETS_PATH, StaticFiles(packages=[("fastapi_swagger", "resources")]), name="swagger-ui-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        # Relative to where the service is mounted, as FastAPI's own page does.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title}: interactive docs",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters=UI_PARAMETERS,
        )
