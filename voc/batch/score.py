"""``voc score``: a dump of customer texts in, documents + mentions + errors tables out.

>>> from voc.batch import ScoreSettings, score_file
>>> summary = score_file(voc.load(), ScoreSettings("posts.csv", output="scored.parquet",
...                      db="voc.duckdb", fields={"time": "created_at"}, workers=2))  # doctest: +SKIP

Reading, analysis and conversion are the ones ``voc analyze`` uses (:func:`voc.io.read_records`,
:func:`voc.batch.engine.run`). Every ``checkpoint_every`` rows all outputs are made durable and
a checkpoint file records how far they go; ``resume=True`` rolls every output back to the
checkpoint and continues from there, so a killed run finishes with every record exactly once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Dict, List, Optional

from ..errors import E_OUTPUT, E_RESUME, InputError
from ..io import guess_format, parquet_rows, read_records
from . import engine
from .records import ERROR_COLUMNS, Flattener
from .sinks import JsonlSink, open_file_sink, sink_paths

CHECKPOINT_VERSION = 1


@dataclass
class ScoreSettings:
    """What to read, how to map it, where to write. ``fields`` maps roles and segments to
    input columns: ``{"time": "created_at", "channel": "platform", "region": "region"}``;
    roles are time, channel, customer, reach, every other key is a passed-through segment."""

    input: str
    output: Optional[str] = None
    db: Optional[str] = None
    format: Optional[str] = None
    text_field: str = "text"
    id_field: Optional[str] = "id"
    fields: Dict[str, str] = field(default_factory=dict)
    encoding: Optional[str] = None
    workers: int = 1
    batch_size: int = 256
    checkpoint_every: int = 20_000
    source: Optional[str] = None
    keep_text: bool = True
    resume: bool = False
    force: bool = False
    progress: bool = True

    @property
    def segments(self) -> List[str]:
        return [k for k in self.fields if k not in ("time", "channel", "customer", "reach")]

    def fingerprint(self) -> str:
        """What must not change between a run and its ``--resume``."""
        keys = {k: v for k, v in asdict(self).items() if k in ("input", "format", "text_field", "id_field",
                                                               "fields", "encoding", "keep_text", "source")}
        try:
            st = os.stat(self.input)
            keys["input_stat"] = [st.st_size, int(st.st_mtime)]
        except OSError:
            pass
        return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:16]


def _check_output_path(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"--output {path} is a folder; give a file name ending in .jsonl or .parquet.", E_OUTPUT)
    if not path.parent.exists():
        raise InputError(f"Cannot write {path}: the folder {path.parent} does not exist. Create it first.", E_OUTPUT)
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"Cannot write {path}: no permission to write in {path.parent}.", E_OUTPUT)
    if path.suffix.lower() not in (".jsonl", ".parquet"):
        raise InputError(f"--output {path}: the extension picks the format; use .jsonl or .parquet.", E_OUTPUT)


class _Checkpoint:
    def __init__(self, path: Path):
        self.path = path

    def read(self) -> Optional[dict]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write(self, state: dict) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def score_file(nlp, s: ScoreSettings, log: Callable[[str], None] = lambda m: None,
               on_progress: Optional[Callable[[int], None]] = None) -> dict:
    """Score ``s.input`` into the outputs of ``s``; returns the run summary (counts reconcile:
    ``read == scored + errors``). Raises :class:`InputError` for usage problems before any
    row is analysed. ``on_progress(rows_done)`` is called after every batch."""
    if not s.output and not s.db:
        raise InputError("Nothing to write: give --output FILE (.jsonl or .parquet) and/or --db FILE.duckdb.",
                         E_OUTPUT)
    fmt = s.format or ("jsonl" if s.input == "-" else guess_format(s.input))
    flat = Flattener(s.segments, keep_text=s.keep_text)
    paths = None
    if s.output:
        out = Path(s.output)
        _check_output_path(out)
        paths = sink_paths(out)
        ck = _Checkpoint(paths["checkpoint"])
    else:
        ck = _Checkpoint(Path(str(s.db) + ".checkpoint.json"))
    source = s.source or Path(s.input).name
    state = ck.read()
    if s.resume:
        if state is None:
            raise InputError(f"Nothing to resume: no checkpoint at {ck.path}. Run without --resume.", E_RESUME)
        if state.get("fingerprint") != s.fingerprint():
            raise InputError(f"{ck.path} belongs to a run with another input or settings (or the input file "
                             "changed); rerun without --resume (and --force) to start over.", E_RESUME)
    elif state is not None and not s.force:
        raise InputError(f"An interrupted run left {ck.path}: pass --resume to continue it, or --force to start "
                         "over.", E_RESUME)
    elif paths and paths["documents"].exists() and not s.force:
        raise InputError(f"{paths['documents']} exists; pass --force to overwrite it.", E_OUTPUT)

    # Open the input before any output: file-level errors (encoding, header) leave nothing behind.
    reading: dict = {}
    rows = read_records(s.input, fmt, s.text_field, s.id_field, s.fields, s.encoding, stats=reading)
    files = {}
    if paths:
        if not s.resume:
            for k in ("documents", "mentions", "errors"):
                paths[k].unlink(missing_ok=True)
                parts = paths[k].with_name(paths[k].name + ".parts")
                if parts.exists():
                    shutil.rmtree(parts)
        files["documents"] = open_file_sink(paths["documents"], flat.doc_columns(), "documents")
        files["mentions"] = open_file_sink(paths["mentions"], flat.mention_columns(), "mentions")
        files["errors"] = JsonlSink(paths["errors"], ERROR_COLUMNS)
    store = db_sink = None
    if s.db:
        from ..store.duck import Store, StoreSink

        store = Store(s.db, memory_limit="64MB")  # appends only: a small buffer pool keeps memory flat
        store.add_segments(s.segments)
        db_sink = StoreSink(store, source, {"documents": flat.doc_columns(), "mentions": flat.mention_columns(),
                                            "errors": ERROR_COLUMNS})
    counts: Counter = Counter()
    skip = 0
    last_row = None
    if s.resume:
        skip, last_row = state["rows_done"], state["last_row"]
        counts.update(state["counts"])
        for k, sink in files.items():
            sink.rollback(state["sinks"][k])
        if db_sink:
            db_sink.rollback(last_row)
        log(f"resuming after {skip:,} rows (checkpoint {ck.path})")
    elif store is not None:
        store.delete_source(source)
    started = datetime.now()

    def checkpoint(done: int, last: Optional[int]) -> None:
        sinks = {k: sink.flush() for k, sink in files.items()}
        if db_sink:
            db_sink.flush()
        ck.write({"version": CHECKPOINT_VERSION, "fingerprint": s.fingerprint(), "rows_done": done,
                  "last_row": last, "counts": dict(counts), "sinks": sinks})

    if not s.resume:
        checkpoint(0, None)
    bar = _progress(s, fmt, skip, reading.get("position"))
    t0 = time.perf_counter()
    done = skip
    since = 0
    todo = _skip(rows, skip)
    for out in engine.run(nlp, todo, flat, workers=s.workers, batch_size=s.batch_size):
        docs, mentions, errors = [], [], []
        for d, ms, e in out:
            if e is not None:
                errors.append(e)
                counts["errors"] += 1
                counts["error:" + e["code"]] += 1
                last_row = e["row"]
            else:
                docs.append(d)
                mentions.extend(ms)
                counts["scored"] += 1
                counts["mentions"] += len(ms)
                if d["warning_code"]:
                    counts["warning:" + d["warning_code"]] += 1
                last_row = d["row"]
        for k, part in (("documents", docs), ("mentions", mentions), ("errors", errors)):
            if k in files:
                files[k].write(part)
            if db_sink:
                db_sink.write(k, part)
        done += len(out)
        since += len(out)
        if bar is not None:
            bar.update(len(out))
            bar.refresh_total()
        if on_progress is not None:
            on_progress(done)
        if since >= s.checkpoint_every:
            checkpoint(done, last_row)
            since = 0
    counts["read"] = done
    checkpoint(done, last_row)
    for sink in files.values():
        sink.close()
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    summary = {"input": s.input, "source": source, "read": done, "scored": counts["scored"],
               "errors": counts["errors"], "mentions": counts["mentions"],
               "errors_by_code": {k[6:]: v for k, v in sorted(counts.items()) if k.startswith("error:")},
               "warnings_by_code": {k[8:]: v for k, v in sorted(counts.items()) if k.startswith("warning:")},
               "seconds": round(seconds, 2), "rows_per_second": round((done - skip) / seconds, 1) if seconds else None,
               "resumed_after": skip or None,
               "outputs": {k: str(v) for k, v in (paths or {}).items() if k != "checkpoint"}}
    if s.db:
        summary["outputs"]["db"] = str(s.db)
        store.record_run(source, s.input, started, summary)
        store.close()
    assert summary["read"] == summary["scored"] + summary["errors"], summary
    ck.remove()
    return summary


def _skip(rows, n: int):
    for i, r in enumerate(rows):
        if i >= n:
            yield r


class _Bar:
    """A tqdm bar in rows; for text inputs the total is estimated from the bytes read."""

    def __init__(self, total_rows, size, position, initial):
        from tqdm import tqdm

        self.size, self.position = size, position
        self.bar = tqdm(total=total_rows, initial=initial, unit=" rows", unit_scale=True, file=sys.stderr,
                        dynamic_ncols=True, smoothing=0.1, mininterval=0.5)

    def update(self, n):
        self.bar.update(n)

    def refresh_total(self):
        if self.position is None or not self.size:
            return
        try:
            pos = self.position()
        except (OSError, ValueError):  # the reader finished and closed the file
            pos = self.size
        if pos:
            self.bar.total = max(self.bar.n, int(self.bar.n * self.size / pos))

    def close(self):
        self.bar.close()


def _progress(s: ScoreSettings, fmt: str, initial: int, position):
    if not s.progress:
        return None
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return None
    if fmt == "parquet":
        return _Bar(parquet_rows(s.input), None, None, initial)
    size = os.path.getsize(s.input) if s.input != "-" and os.path.exists(s.input) else None
    return _Bar(None, size, position, initial)
