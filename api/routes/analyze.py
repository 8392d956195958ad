import threading
import time

from fastapi import APIRouter, Depends, Request, Response

import voc
from api.deps import count_scored, get_nlp
from api.security import require_read
from api.schemas import AnalyzeRequest, BatchRequest, BatchResponse, ErrorResponse, Record
from api.settings import Settings, get_settings
from voc.errors import E_MISSING_FIELD, E_TEXT_TOO_LONG, E_TOO_MANY, InputError


def too_long(text, limit: int):
    """An E115 error for a text over the service's limit, else None."""
    if isinstance(text, str) and len(text) > limit:
        return InputError(f"The text has {len(text):,} characters; this service takes at most {limit:,} "
                          "(VOC_MAX_TEXT_CHARS). Split it, or score files with `voc score`.", E_TEXT_TOO_LONG)
    return None

router = APIRouter(prefix="/v1", tags=["analyze"], dependencies=[Depends(require_read)])
# Analysis is CPU-bound Python: one request at a time per process. Forty threadpool threads taking
# turns on the GIL made every request as slow as all of them together; a lock keeps each one
# short and the queue outside it. Scale with worker processes (voc serve --workers).
ANALYZE_LOCK = threading.Lock()
ERRORS = {400: {"model": ErrorResponse, "description": "a body that is not UTF-8 JSON (E110)"},
          401: {"model": ErrorResponse, "description": "no valid API key (E112)"},
          413: {"model": ErrorResponse, "description": "too many items (E106)"},
          422: {"model": ErrorResponse, "description": "invalid text or body (E101, E102, E110)"}}


@router.post("/analyze", response_model=Record, response_model_exclude_unset=True, responses=ERRORS)
def analyze(req: AnalyzeRequest, request: Request, response: Response,
            nlp: voc.Pipeline = Depends(get_nlp), settings: Settings = Depends(get_settings)) -> dict:
    """Analyse one text. Empty text → 422 with the library's error code."""
    err = too_long(req.text, settings.max_text_chars)
    if err is not None:
        raise err
    with ANALYZE_LOCK:
        t = time.perf_counter()
        doc = nlp(req.text, id=None if req.id is None else str(req.id))
        rec = doc.to_dict(tokens=req.tokens, clauses=req.clauses)
        response.headers["server-timing"] = f"analyze;dur={(time.perf_counter() - t) * 1000:.3f}"
    count_scored(request, [rec])
    return rec


@router.post("/analyze/batch", response_model=BatchResponse, response_model_exclude_unset=True, responses=ERRORS)
def analyze_batch(req: BatchRequest, request: Request, nlp: voc.Pipeline = Depends(get_nlp),
                  settings: Settings = Depends(get_settings)) -> dict:
    """Analyse many texts; a bad item gets its own coded error and the rest are scored, as with
    the CLI: a non-string text is E102, an item without ``text`` E103."""
    if len(req.items) > settings.max_batch:
        raise InputError(f"At most {settings.max_batch} items per request, got {len(req.items)}; split the batch "
                         "or use `voc score` for files.", E_TOO_MANY)
    texts = [(too_long(it.text, settings.max_text_chars) or it.text) if "text" in it.model_fields_set else
             InputError("The item has no \"text\" field; send {\"text\": \"...\"}.", E_MISSING_FIELD)
             for it in req.items]
    ids = [None if it.id is None else str(it.id) for it in req.items]
    with ANALYZE_LOCK:
        records = [d.to_dict() for d in nlp.pipe(texts, ids=ids)]
    count_scored(request, records)
    return {"records": records, "errors": sum(r["error"] is not None for r in records)}
