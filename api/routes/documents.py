"""Ingest documents into the store: analysed, PII-masked, idempotent on id."""

import re
import threading
from typing import Any, Dict, List, Optional

import pyarrow as pa
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

import voc
from api.deps import count_scored, get_nlp, get_store
from api.schemas import ErrorResponse
from api.security import require_write
from api.settings import Settings, get_settings
from voc.batch import Flattener
from voc.batch.engine import analyze_batch
from voc.batch.records import ERROR_COLUMNS
from voc.batch.sinks import arrow_schema
from voc.errors import E_BAD_REQUEST, E_TOO_MANY, InputError
from voc.io import Row
from voc.privacy import redact

router = APIRouter(prefix="/v1", tags=["store"])
SOURCE = "api"
_WRITE_LOCK = threading.Lock()
_SEGMENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
RESERVED = {"id", "row", "text", "source", "time", "channel", "customer", "reach", "language", "sentiment"}


class DocumentIn(BaseModel):
    id: Any = Field(..., description="your id (string or number); sending the same id again replaces the document",
                    json_schema_extra={"type": ["string", "integer"]})
    text: Any = Field(None, description="the customer's text")
    time: Optional[Any] = Field(None, description="ISO-8601 or epoch seconds")
    channel: Optional[str] = None
    customer: Optional[str] = None
    reach: Optional[float] = Field(None, strict=True, ge=0, description="followers, likes or reposts (word of mouth)")
    segments: Dict[str, Optional[str]] = Field(default_factory=dict, description="brand, region, store, ...")


class IngestRequest(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"documents": [
        {"id": "wb-1", "text": "外卖等了一个半小时，汤都洒了", "time": "2026-11-02T12:30:00", "channel": "weibo",
         "reach": 120, "segments": {"city": "上海"}},
        {"id": "tw-1", "text": "The app keeps crashing at checkout", "time": "2026-11-02T13:00:00",
         "channel": "twitter"}]}]}}

    documents: List[DocumentIn]


@router.post("/documents", dependencies=[Depends(require_write)],
             responses={400: {"model": ErrorResponse}, 401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                        413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})
def ingest(req: IngestRequest, request: Request, nlp: voc.Pipeline = Depends(get_nlp), store=Depends(get_store),
           settings: Settings = Depends(get_settings)) -> dict:
    """Analyse documents and store them with their mentions (source ``api``). Idempotent on
    ``id``: a document sent again replaces the stored one. Phone numbers, e-mails, ID and bank
    card numbers are masked before storing (``VOC_REDACT_PII``). A document that cannot be
    analysed is reported with its code and kept in the errors table; the others are stored."""
    if len(req.documents) > settings.max_batch:
        raise InputError(f"At most {settings.max_batch} documents per request, got {len(req.documents)}.",
                         E_TOO_MANY)
    segments = sorted({k for d in req.documents for k in d.segments})
    bad = [k for k in segments if not _SEGMENT_RE.match(k) or k in RESERVED]
    if bad:
        raise InputError(f"Segment names must be lower-case letters, digits and _ (and not one of the record's "
                         f"own fields): {', '.join(bad)}.", E_BAD_REQUEST)
    bad_ids = [i for i, d in enumerate(req.documents) if isinstance(d.id, bool) or not isinstance(d.id, (str, int))
               or str(d.id) == ""]
    if bad_ids:
        raise InputError(f"Every document needs an id, a non-empty string or an integer (documents "
                         f"{', '.join(map(str, bad_ids[:10]))}).", E_BAD_REQUEST)
    ids = [str(d.id) for d in req.documents]
    if len(set(ids)) != len(ids):
        raise InputError("Each id may appear once per request.", E_BAD_REQUEST)
    masked = 0
    texts = []
    from api.routes.analyze import too_long

    for d in req.documents:
        t = too_long(d.text, settings.max_text_chars) or d.text
        if settings.redact_pii and isinstance(t, str):
            t, spans = redact(t)
            masked += bool(spans)
        texts.append(t)
    with _WRITE_LOCK:
        store.add_segments(segments)
        first = store.con.execute("SELECT coalesce(max(row), 0) FROM documents WHERE source = ?",
                                  [SOURCE]).fetchone()[0]
        rows = [Row(first + i + 1, ids[i], texts[i],
                    {"time": d.time, "channel": d.channel, "customer": d.customer, "reach": d.reach,
                     **d.segments}) for i, d in enumerate(req.documents)]
        flat = Flattener(segments)
        out = analyze_batch(nlp, rows, flat)
        docs = [d for d, _, e in out if e is None]
        mentions = [m for d, ms, e in out if e is None for m in ms]
        errors = [e for _, _, e in out if e is not None]
        con = store.con
        con.begin()
        try:
            marks = ", ".join("?" * len(ids))
            replaced = con.execute(f"SELECT count(*) FROM documents WHERE source = ? AND id IN ({marks})",
                                   [SOURCE] + ids).fetchone()[0]
            for table in ("documents", "mentions", "errors"):
                con.execute(f"DELETE FROM {table} WHERE source = ? AND id IN ({marks})", [SOURCE] + ids)
            for table, part, cols in (("documents", docs, flat.doc_columns()),
                                      ("mentions", mentions, flat.mention_columns()),
                                      ("errors", errors, ERROR_COLUMNS)):
                store.insert(table, pa.Table.from_pylist(part, schema=arrow_schema(cols, table)), SOURCE)
            con.commit()
        except Exception:
            con.rollback()
            raise
    count_scored(request, [{"error": {"code": e["code"]}} for e in errors] + [{"error": None}] * len(docs))
    return {"ingested": len(docs), "replaced": int(replaced), "mentions": len(mentions), "pii_masked": masked,
            "errors": [{"id": e["id"], "code": e["code"], "message": e["message"]} for e in errors]}
