"""Roll-ups over the store: the same numbers as `voc rollup` (voc.rollup on DuckDB SQL)."""

from typing import List, Optional

from fastapi import APIRouter, Depends, Query

import voc
from api.deps import get_nlp, get_store
from api.security import require_read
from voc.errors import E_ROLLUP, InputError
from voc.rollup import BUCKETS, Filters, RollupConfig, StoreSource, parse_when, prioritize, rollup, trends

from api.schemas import ErrorResponse  # noqa: E402

router = APIRouter(prefix="/v1", tags=["roll-ups"], dependencies=[Depends(require_read)],
                   responses={401: {"model": ErrorResponse, "description": "no valid API key (E112)"},
                              422: {"model": ErrorResponse, "description": "an unknown dimension, segment or "
                                    "date (E408), or a parameter outside its pattern (E110)"}})


ISO_DAY = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$"


def filters(start: Optional[str] = Query(None, alias="from", description="first day included (ISO)",
                                         pattern=ISO_DAY),
            end: Optional[str] = Query(None, alias="to", description="first day excluded (ISO)", pattern=ISO_DAY),
            channel: Optional[str] = None, language: Optional[str] = Query(None, pattern="^(zh|en|mixed|other)$"),
            source: Optional[str] = None,
            touchpoint: Optional[List[str]] = Query(None, description="only these labels (repeat)"),
            segment: Optional[List[str]] = Query(None, description="COLUMN:VALUE (repeat)")) -> Filters:
    segs = {}
    for s in segment or []:
        k, sep, v = s.partition(":")
        if not sep:
            raise InputError(f"segment={s!r}: write COLUMN:VALUE, e.g. segment=city:上海.", E_ROLLUP)
        segs[k] = v
    return Filters(start=parse_when(start, "from"), end=parse_when(end, "to"), channel=channel, language=language,
                   labels=touchpoint, source=source, segments=segs)


def _source(store) -> StoreSource:
    return StoreSource(store)


def _check_segments(src: StoreSource, f: Filters) -> None:
    unknown = set(f.segments) - set(src.segments())
    if unknown:
        raise InputError(f"No segment column {', '.join(sorted(unknown))} in the store; it has: "
                         f"{', '.join(src.segments()) or 'none'}.", E_ROLLUP)


@router.get("/rollups")
def get_rollups(kind: str = Query("touchpoint", pattern="^(touchpoint|theme)$"),
                by: str = Query("label", description="comma-separated: label, channel, language, source, segments",
                                pattern=r"^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$"),
                bucket: Optional[str] = Query(None, description=f"time bucket: {', '.join(BUCKETS)}",
                                              pattern="^(day|week|month|quarter|year)$"),
                min_volume: Optional[int] = Query(None, ge=1), f: Filters = Depends(filters),
                store=Depends(get_store)) -> dict:
    """Volume, share of voice, net sentiment, 0–10 score with 95% interval, reach-weighted
    variants, per group (and per period with ``bucket``)."""
    src = _source(store)
    _check_segments(src, f)
    cfg = RollupConfig.from_yaml(overrides={"min_volume": min_volume} if min_volume else None)
    dims = tuple(b.strip() for b in by.split(",") if b.strip())
    return {"kind": kind, "by": dims, "bucket": bucket, "rows": rollup(src, kind, dims, bucket, f, cfg)}


@router.get("/priorities")
def get_priorities(kind: str = Query("touchpoint", pattern="^(touchpoint|theme)$"),
                   min_volume: Optional[int] = Query(None, ge=1), f: Filters = Depends(filters),
                   store=Depends(get_store)) -> dict:
    """The ranking by importance × (experience − expectation): key experience first, with
    quadrants and the key-driver fit."""
    src = _source(store)
    _check_segments(src, f)
    cfg = RollupConfig.from_yaml(overrides={"min_volume": min_volume} if min_volume else None)
    return prioritize(src, kind, f, cfg)


@router.get("/alerts")
def get_alerts(kind: str = Query("touchpoint", pattern="^(touchpoint|theme)$"),
               bucket: str = Query("week", pattern="^(day|week|month|quarter|year)$"),
               f: Filters = Depends(filters), store=Depends(get_store)) -> dict:
    """Periods whose negative share jumped beyond the touchpoint's own baseline (z-score rule)."""
    src = _source(store)
    _check_segments(src, f)
    tr = trends(src, kind, bucket, ("label",), f)
    return {"bucket": bucket, "alerts": tr["alerts"]}


@router.get("/verbatims")
def get_verbatims(touchpoint: str = Query(..., description="the label"),
                  kind: str = Query("touchpoint", pattern="^(touchpoint|theme)$"),
                  polarity: Optional[str] = Query(None, pattern="^(positive|neutral|negative)$"),
                  limit: int = Query(10, ge=1, le=200), f: Filters = Depends(filters),
                  store=Depends(get_store)) -> dict:
    """The posts behind a number, most extreme first, with evidence offsets into ``text``."""
    src = _source(store)
    _check_segments(src, f)
    return {"label": touchpoint, "verbatims": src.verbatims(kind, touchpoint, f, polarity, limit)}


@router.get("/taxonomy")
def get_taxonomy(nlp: voc.Pipeline = Depends(get_nlp)) -> dict:
    """The model's touchpoints, themes, stages and signals with their names in both languages."""
    return nlp.meta.get("taxonomy", {})


@router.get("/model")
def get_model(nlp: voc.Pipeline = Depends(get_nlp)) -> dict:
    """Name, version, labels, and the held-out figures recorded in the model card."""
    m = nlp.meta
    gold = m.get("metrics", {}).get("gold", {}).get("by_slice", {}).get("all")
    return {"name": m.get("name"), "version": m.get("version"), "created_at": m.get("created_at"),
            "labels": m.get("labels"), "stages": nlp.pipe_names, "voc_version": voc.__version__,
            "gold": {k: gold.get(k) for k in ("n", "sentiment_macro_f1", "touchpoint_sentiment_macro_f1")}
            if gold else None}
