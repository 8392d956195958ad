from fastapi import APIRouter, Depends, HTTPException

import voc
from api.deps import get_nlp
from api.schemas import AnalyzeRequest, BatchRequest, BatchResponse
from api.settings import Settings, get_settings

router = APIRouter(prefix="/v1", tags=["analyze"])


@router.post("/analyze")
def analyze(req: AnalyzeRequest, nlp: voc.Pipeline = Depends(get_nlp)) -> dict:
    """Analyse one text. Empty text → 422 with the library's error code."""
    doc = nlp(req.text, id=req.id)
    return doc.to_dict(tokens=req.tokens, clauses=req.clauses)


@router.post("/analyze/batch", response_model=BatchResponse)
def analyze_batch(req: BatchRequest, nlp: voc.Pipeline = Depends(get_nlp),
                  settings: Settings = Depends(get_settings)) -> dict:
    """Analyse many texts; a bad item gets its own coded error and the rest are scored."""
    if len(req.items) > settings.max_batch:
        raise HTTPException(413, detail={"code": "E106", "message": f"At most {settings.max_batch} items per "
                                         "request; split the batch or use `voc analyze --input` for files."})
    docs = list(nlp.pipe([it.text for it in req.items], ids=[it.id for it in req.items]))
    return {"records": [d.to_dict() for d in docs], "errors": sum(d.error is not None for d in docs)}
