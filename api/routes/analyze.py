from fastapi import APIRouter, Depends, Request

import voc
from api.deps import count_scored, get_nlp
from api.security import require_read
from api.schemas import AnalyzeRequest, BatchRequest, BatchResponse, ErrorResponse, Record
from api.settings import Settings, get_settings
from voc.errors import E_MISSING_FIELD, E_TOO_MANY, InputError

router = APIRouter(prefix="/v1", tags=["analyze"], dependencies=[Depends(require_read)])
ERRORS = {413: {"model": ErrorResponse, "description": "too many items (E106)"},
          422: {"model": ErrorResponse, "description": "invalid text or body (E101, E102, E110)"}}


@router.post("/analyze", response_model=Record, response_model_exclude_unset=True, responses=ERRORS)
def analyze(req: AnalyzeRequest, request: Request, nlp: voc.Pipeline = Depends(get_nlp)) -> dict:
    """Analyse one text. Empty text → 422 with the library's error code."""
    doc = nlp(req.text, id=None if req.id is None else str(req.id))
    rec = doc.to_dict(tokens=req.tokens, clauses=req.clauses)
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
    texts = [it.text if "text" in it.model_fields_set else
             InputError("The item has no \"text\" field; send {\"text\": \"...\"}.", E_MISSING_FIELD)
             for it in req.items]
    ids = [None if it.id is None else str(it.id) for it in req.items]
    records = [d.to_dict() for d in nlp.pipe(texts, ids=ids)]
    count_scored(request, records)
    return {"records": records, "errors": sum(r["error"] is not None for r in records)}
