"""``uvicorn api.main:app`` — voc over HTTP."""

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import voc
from api.routes import analyze
from api.settings import get_settings
from voc.errors import InputError, ModelError, VocError


@asynccontextmanager
async def lifespan(app: FastAPI):
    nlp = voc.load(get_settings().model_path)   # once, not at import
    nlp("预热 warm-up")                          # jieba and OpenCC initialise lazily: pay it before traffic
    app.state.nlp = nlp
    yield


def create_app(use_lifespan: bool = True) -> FastAPI:
    app = FastAPI(title="voc", version=voc.__version__, lifespan=lifespan if use_lifespan else None,
                  description="Voice-of-customer analysis: touchpoints, themes, stage, sentiment, signals.")
    app.include_router(analyze.router)

    @app.get("/health")
    def health(request: Request) -> dict:
        nlp = getattr(request.app.state, "nlp", None)
        return {"status": "ok" if nlp else "loading", "model": (nlp.meta.get("name") if nlp else None)}

    @app.exception_handler(VocError)
    def voc_error(request: Request, exc: VocError):
        status = 422 if isinstance(exc, InputError) else (503 if isinstance(exc, ModelError) else 500)
        return JSONResponse(status_code=status, content={"error": exc.to_dict()})

    return app


app = create_app()
