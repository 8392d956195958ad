from fastapi import Request

import voc
from voc.errors import E_MODEL_MISSING, ModelError


def get_nlp(request: Request) -> voc.Pipeline:
    return request.app.state.nlp


def get_store(request: Request):
    """The store on a cursor of its own (DuckDB connections are not shared across threads)."""
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise ModelError("The store is not open; set VOC_STORE_PATH to a writable DuckDB file.", E_MODEL_MISSING)
    return store.cursor()


def count_scored(request: Request, records) -> None:
    """Feed /metrics: documents analysed and the record-level error codes among them."""
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is None:
        return
    n = 0
    for r in records:
        n += 1
        err = r.get("error") if isinstance(r, dict) else None
        if err:
            metrics.errors.labels(err["code"]).inc()
    metrics.documents.inc(n)
