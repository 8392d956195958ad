"""Run the pipeline over a stream of :class:`~voc.io.Row` with worker processes, in order.

One engine serves ``voc analyze``, ``voc score`` and ``Pipeline.pipe(n_process>1)``: the
rows are cut into batches, each worker analyses a batch and *converts* every Document
there (to a JSON line, to flat table rows, ...), so only small results cross the process
boundary and the parent only writes. At most ``2 × workers`` batches are in flight, so
memory stays flat however long the input is.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, TypeVar

from ..document import Document
from ..io import Row

T = TypeVar("T")
Convert = Callable[[Row, Document], T]

_STATE: Optional[tuple] = None  # (pipeline, convert) inherited by forked workers


def batched(items: Iterable, n: int) -> Iterator[list]:
    batch = []
    for it in items:
        batch.append(it)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def analyze_batch(nlp, rows: Sequence[Row], convert: Convert) -> List:
    """Analyse one batch of rows and convert each (row, Document) pair."""
    docs = nlp._run([nlp.make_doc(r.text, r.id) for r in rows])
    return [convert(r, d) for r, d in zip(rows, docs)]


def _work(rows):
    nlp, convert = _STATE
    return analyze_batch(nlp, rows, convert)


def run(nlp, rows: Iterable[Row], convert: Convert, workers: int = 1, batch_size: int = 256,
        in_flight: Optional[int] = None) -> Iterator[List]:
    """Yield ``[convert(row, doc), ...]`` batch by batch, in input order.

    ``workers > 1`` forks ``workers - 1`` processes and makes the calling process the last
    worker: it analyses a batch itself whenever the oldest batch in flight is not back yet,
    instead of waiting. A batch analysed here is never pickled, so two workers on two cores
    come close to twice one (a third process only competing for the two cores did not). A
    failing record never raises: the pipeline turns it into a Document with an ``E199`` error.
    """
    # The model is ~100k long-lived objects; every full garbage collection walks them all. Freezing
    # them (after warm-up, before forking) makes unpickling results ~2.5x cheaper in the parent
    # and analysis ~15% faster, and keeps forked workers from touching copy-on-write pages.
    nlp.warm()
    gc.freeze()
    if workers <= 1:
        for batch in batched(rows, batch_size):
            yield analyze_batch(nlp, batch, convert)
        return
    import multiprocessing as mp

    global _STATE
    _STATE = (nlp, convert)
    ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
    children = workers - 1
    feed = in_flight or 2 * children          # batches queued for the children
    limit = feed + 2                          # batches held in the window, at most
    # The window, in input order: ["async", AsyncResult] (a child's), ["todo", rows] (for this
    # process, done lazily), ["done", results].
    pending: deque = deque()
    batches = batched(rows, batch_size)
    queued = 0
    try:
        with ctx.Pool(children) as pool:
            while True:
                while len(pending) < limit:
                    batch = next(batches, None)
                    if batch is None:
                        break
                    if queued < feed:
                        pending.append(["async", pool.apply_async(_work, (batch,))])
                        queued += 1
                    else:
                        pending.append(["todo", batch])
                if not pending:
                    break
                kind, item = head = pending[0]
                if kind == "async" and not item.ready():
                    todo = next((e for e in pending if e[0] == "todo"), None)
                    if todo is not None:  # the oldest batch is not back yet: work instead of waiting
                        todo[:] = ["done", analyze_batch(nlp, todo[1], convert)]
                        continue
                pending.popleft()
                if kind == "async":
                    queued -= 1
                    yield item.get()
                elif kind == "todo":
                    yield analyze_batch(nlp, item, convert)
                else:
                    yield item
    finally:
        _STATE = None
