"""The built-in dashboard at ``/``: one static page (plain JS, plotly.js served locally, no CDN)
that reads the service's own ``/v1`` roll-up endpoints with the user's API key.

The page holds no data of its own, so serving it needs no key; every number it shows comes
from ``/v1/priorities``, ``/v1/rollups``, ``/v1/alerts`` and ``/v1/verbatims``, which do.
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static" / "dashboard"

# Scripts and styles from this origin only; plotly sets inline styles on its SVG, hence
# 'unsafe-inline' for styles (never for scripts). Customer text is inserted as DOM text nodes.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; "
       "form-action 'none'")

router = APIRouter(tags=["dashboard"])


def static_files() -> StaticFiles:
    """The page's assets (``app.js``, ``app.css``, ``vendor/plotly.min.js``), for ``/static/dashboard``."""
    return StaticFiles(directory=STATIC)


def plotly_js() -> Path:
    """plotly.js as the installed ``plotly`` package ships it (a core dependency of voc): the same
    file a vendored copy would be, without 4.8 MB of it in the repository."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@router.get("/static/dashboard/vendor/plotly.min.js", include_in_schema=False)
def vendored_plotly() -> FileResponse:
    # Registered before the /static/dashboard mount, so this route answers for the file.
    return FileResponse(plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    """The dashboard page."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                                       "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})
