import threading

from fastapi import Request

import voc
from voc.errors import E_MODEL_MISSING, ModelError


def get_nlp(request: Request) -> voc.Pipeline:
    return request.app.state.nlp


_OPEN_LOCK = threading.Lock()


def get_store(request: Request):
    """The store on a cursor of its own (DuckDB connections are not shared across threads).

    Opened on first use, so analysis-only traffic can run on several worker processes; one
    process owns a DuckDB file for writing, so serve the store endpoints with one worker."""
    state = request.app.state
    store = getattr(state, "store", None)
    if store is None:
        path = getattr(state, "store_path", None)
        if path is None:
            raise ModelError("The store is not configured; set VOC_STORE_PATH to a writable DuckDB file.",
                             E_MODEL_MISSING)
        with _OPEN_LOCK:
            store = getattr(state, "store", None)
            if store is None:
                from voc.store import Store

                store = state.store = Store(path)
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
