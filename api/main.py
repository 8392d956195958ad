"""``uvicorn api.main:app`` (or ``voc serve``) — voc over HTTP."""

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import voc
from api.metrics import CONTENT_TYPE_LATEST, Metrics
from api.routes import analyze, dashboard, documents, jobs, rollups
from api.security import AuthError
from api.settings import get_settings
from voc.errors import E_AUTH, E_BAD_REQUEST, E_NOT_FOUND, E_TOO_MANY, InputError, ModelError, VocError


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = get_settings()
    nlp = voc.load(settings.model_path)         # once, not at import
    nlp("预热 warm-up")                          # jieba and OpenCC initialise lazily: pay it before traffic
    app.state.nlp = nlp
    app.state.store_path = settings.store_path   # opened on the first store request (see api.deps.get_store)
    try:
        yield
    finally:
        if getattr(app.state, "store", None) is not None:
            app.state.store.close()


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def _swagger_assets() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


def create_app(use_lifespan: bool = True) -> FastAPI:
    app = FastAPI(title="voc", version=voc.__version__, lifespan=lifespan if use_lifespan else None,
                  description="Voice-of-customer analysis: touchpoints, themes, stage, sentiment, signals.",
                  docs_url=None, redoc_url=None)
    app.include_router(analyze.router)
    app.include_router(documents.router)
    app.include_router(rollups.router)
    app.include_router(jobs.router)
    app.include_router(dashboard.router)
    app.mount("/static/dashboard", dashboard.static_files(), name="dashboard")  # the page at / and its assets
    settings = get_settings()
    metrics = app.state.metrics = Metrics()
    app.middleware("http")(metrics.middleware())

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        limit = settings.max_upload_bytes if request.url.path == "/v1/jobs" else settings.max_body_bytes
        if size and size.isdigit() and int(size) > limit:
            metrics.errors.labels(E_TOO_MANY).inc()
            return error_response(413, E_TOO_MANY, f"The request body has {int(size):,} bytes; at most "
                                                   f"{limit:,} (VOC_MAX_BODY_BYTES, VOC_MAX_UPLOAD_BYTES).")
        return await call_next(request)

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["content-type", "x-api-key", "authorization"])

    @app.get("/metrics", include_in_schema=False)
    def prometheus():
        from fastapi.responses import Response

        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    assets = _swagger_assets()
    if assets is not None:  # Swagger UI served from the installed package: /docs works offline
        from fastapi.staticfiles import StaticFiles

        app.mount("/static/swagger", StaticFiles(directory=assets), name="swagger")

        @app.get("/docs", include_in_schema=False)
        def docs():
            return get_swagger_ui_html(openapi_url=app.openapi_url, title="voc API",
                                       swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                       swagger_css_url="/static/swagger/swagger-ui.css",
                                       swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.get("/health", include_in_schema=False)
    def health(request: Request) -> dict:
        """The 0.1 probe, kept for existing deployments: status and model name."""
        nlp = getattr(request.app.state, "nlp", None)
        return {"status": "ok" if nlp else "loading", "model": nlp.meta.get("name") if nlp else None}

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz(request: Request):
        """Readiness: the model is loaded and can take traffic."""
        nlp = getattr(request.app.state, "nlp", None)
        if nlp is None:
            return JSONResponse(status_code=503, content={"status": "loading", "model": None})
        return {"status": "ready", "model": nlp.meta.get("name"), "version": nlp.meta.get("version")}

    # One error shape for everything: {"error": {"code", "message"}} with the library's codes.
    @app.exception_handler(VocError)
    def voc_error(request: Request, exc: VocError):
        metrics.errors.labels(exc.code).inc()
        if isinstance(exc, AuthError):
            status = 401 if exc.code == E_AUTH else 403
        elif exc.code == E_NOT_FOUND:
            status = 404
        elif isinstance(exc, InputError):
            status = 413 if exc.code == E_TOO_MANY else 422
        else:
            status = 503 if isinstance(exc, ModelError) else 500
        return error_response(status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError):
        metrics.errors.labels(E_BAD_REQUEST).inc()
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()[:5])
        return error_response(422, E_BAD_REQUEST, f"The request does not fit this endpoint ({problems}). "
                                                  "See /docs for the schema and examples.")

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException):
        code = E_NOT_FOUND if exc.status_code in (404, 405) else E_BAD_REQUEST
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(getattr(exc, "headers", None) or {})  # e.g. Allow on a 405
        return response

    return app


app = create_app()
