"""Where scored rows go: JSONL files, Parquet files, a DuckDB store.

Every sink can make what it holds durable (``flush`` returns its position) and go back to
such a position (``rollback``), which is what makes ``voc score --resume`` exact after a
crash or SIGKILL: rows written after the last checkpoint are dropped and scored again, so
no record is lost or duplicated.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Sequence

from ..errors import E_DEPENDENCY, DependencyError


def _json_default(x):
    if isinstance(x, datetime):
        return x.isoformat()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def require_pyarrow():
    try:
        import pyarrow  # noqa: F401
    except ImportError as e:
        raise DependencyError("Parquet output and the store need pyarrow: pip install 'voc[batch]'.",
                              E_DEPENDENCY) from e


class JsonlSink:
    """Appends one JSON object per row; a checkpoint is the file's byte length."""

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        self._f = open(self.path, "ab")

    def write(self, rows: List[dict]) -> None:
        if rows:
            self._f.write("".join(json.dumps(r, ensure_ascii=False, default=_json_default) + "\n"
                                  for r in rows).encode("utf-8"))

    def flush(self) -> dict:
        self._f.flush()
        os.fsync(self._f.fileno())
        return {"bytes": self._f.tell()}

    def rollback(self, state: dict) -> None:
        self._f.flush()
        self._f.truncate(state.get("bytes", 0))
        self._f.seek(0, os.SEEK_END)

    def close(self) -> None:
        self._f.close()


def arrow_schema(columns: Sequence[str], kind: str):
    """The Arrow schema of a documents / mentions / errors table (segments are strings)."""
    import pyarrow as pa

    types = {"row": pa.int64(), "time": pa.timestamp("us"), "reach": pa.float64(),
             "sentiment_score": pa.float64(), "sentiment_confidence": pa.float64(), "confidence": pa.float64(),
             "score": pa.float64(), "doc_sentiment_score": pa.float64(), "evidence_start": pa.int32(),
             "evidence_end": pa.int32(), "touchpoints": pa.list_(pa.string()), "themes": pa.list_(pa.string()),
             "signals": pa.list_(pa.string())}
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])


class ParquetSink:
    """Writes row groups as numbered part files in ``PATH.parts/`` (each renamed into place
    when complete, so a kill never leaves half a part); ``close`` joins them into ``PATH``."""

    def __init__(self, path: Path, columns: Sequence[str], kind: str):
        require_pyarrow()
        self.path = Path(path)
        self.parts = self.path.with_name(self.path.name + ".parts")
        self.parts.mkdir(exist_ok=True)
        self.schema = arrow_schema(columns, kind)
        self._buf: List[dict] = []
        self._k = len(list(self.parts.glob("part-*.parquet")))

    def write(self, rows: List[dict]) -> None:
        self._buf.extend(rows)

    def flush(self) -> dict:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._buf:
            table = pa.Table.from_pylist(self._buf, schema=self.schema)
            tmp = self.parts / f".part-{self._k:06d}.tmp"
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, self.parts / f"part-{self._k:06d}.parquet")
            self._k += 1
            self._buf = []
        return {"parts": self._k}

    def rollback(self, state: dict) -> None:
        keep = state.get("parts", 0)
        for p in self.parts.glob("*"):
            if not p.name.startswith("part-") or int(p.stem.split("-")[1]) >= keep:
                p.unlink()
        self._k = keep
        self._buf = []

    def close(self) -> None:
        import pyarrow.parquet as pq

        self.flush()
        tmp = self.path.with_name(self.path.name + ".tmp")
        with pq.ParquetWriter(tmp, self.schema, compression="zstd") as w:
            for p in sorted(self.parts.glob("part-*.parquet")):
                w.write_table(pq.read_table(p, schema=self.schema))
        os.replace(tmp, self.path)
        shutil.rmtree(self.parts, ignore_errors=True)


def open_file_sink(path: Path, columns: Sequence[str], kind: str):
    return ParquetSink(path, columns, kind) if Path(path).suffix.lower() == ".parquet" else JsonlSink(path, columns)


def sink_paths(output: Path) -> Dict[str, Path]:
    """The files of one ``--output``: documents, mentions, errors, checkpoint."""
    output = Path(output)
    ext = output.suffix.lower()
    stem = output.with_suffix("")
    return {"documents": output, "mentions": Path(f"{stem}.mentions{ext}"),
            "errors": Path(f"{stem}.errors.jsonl"), "checkpoint": Path(f"{stem}.checkpoint.json")}
