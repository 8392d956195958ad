"""A DuckDB file holding ``documents``, ``mentions``, ``errors`` and ``runs``.

Rows carry the ``source`` they came from (by default the input file's name): scoring the
same source again replaces its rows, so a rerun never double-counts; ``--resume`` drops the
rows written after the last checkpoint and continues.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from ..batch.records import DOC_COLUMNS, ERROR_COLUMNS, MENTION_COLUMNS
from ..errors import E_DEPENDENCY, E_OUTPUT, DependencyError, InputError

SQL_TYPES = {"row": "BIGINT", "time": "TIMESTAMP", "reach": "DOUBLE", "sentiment_score": "DOUBLE",
             "sentiment_confidence": "DOUBLE", "confidence": "DOUBLE", "score": "DOUBLE",
             "doc_sentiment_score": "DOUBLE", "evidence_start": "INTEGER", "evidence_end": "INTEGER",
             "touchpoints": "VARCHAR[]", "themes": "VARCHAR[]", "signals": "VARCHAR[]"}
TABLES = {"documents": DOC_COLUMNS, "mentions": MENTION_COLUMNS, "errors": ERROR_COLUMNS}


def _duckdb():
    try:
        import duckdb
    except ImportError as e:
        raise DependencyError("The store needs DuckDB: pip install 'voc[batch]'.", E_DEPENDENCY) from e
    return duckdb


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    """One DuckDB file. ``Store(path)`` opens or creates it; ``read_only`` for reports;
    ``memory_limit`` caps DuckDB's buffer pool (roll-ups over tens of millions of mentions
    stream within it)."""

    def __init__(self, path, read_only: bool = False, memory_limit: str = "256MB"):
        duckdb = _duckdb()
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise InputError(f"No store at {self.path}: create it with `voc score INPUT --db {self.path}`.", E_OUTPUT)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as e:
            raise InputError(f"Cannot open the store {self.path}: {e}", E_OUTPUT) from e
        # DuckDB's default buffer pool is 80% of RAM; a scoring run only appends, and a cache that
        # grows with the store would make memory grow with the input.
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if not read_only:
            self._create()

    def _create(self) -> None:
        for table, cols in TABLES.items():
            body = ", ".join(f"{_ident(c)} {SQL_TYPES.get(c, 'VARCHAR')}" for c in ("source",) + tuple(cols))
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        self.con.execute("CREATE TABLE IF NOT EXISTS runs (source VARCHAR, input VARCHAR, started_at TIMESTAMP, "
                         "finished_at TIMESTAMP, summary VARCHAR)")

    def cursor(self) -> "Store":
        """A view of this store on its own DuckDB cursor, for one thread (a web request)."""
        view = object.__new__(Store)
        view.path, view.con = self.path, self.con.cursor()
        return view

    def columns(self, table: str) -> List[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]

    def segments(self) -> List[str]:
        """Passed-through segment columns present in the store (region, brand, ...)."""
        fixed = set(DOC_COLUMNS) | {"source"}
        return [c for c in self.columns("documents") if c not in fixed]

    def add_segments(self, names: Sequence[str]) -> None:
        for table in ("documents", "mentions"):
            have = set(self.columns(table))
            for n in names:
                if n not in have:
                    self.con.execute(f"ALTER TABLE {table} ADD COLUMN {_ident(n)} VARCHAR")

    def delete_source(self, source: str, after_row: Optional[int] = None) -> None:
        cond, args = "source = ?", [source]
        if after_row is not None:
            cond += " AND row > ?"
            args.append(after_row)
        for table in TABLES:
            self.con.execute(f"DELETE FROM {table} WHERE {cond}", args)

    def insert(self, table: str, arrow_table, source: str) -> None:
        import pyarrow as pa

        if arrow_table.num_rows == 0:
            return
        t = arrow_table.append_column("source", pa.array([source] * arrow_table.num_rows, pa.string()))
        self.con.register("_voc_batch", t)
        try:
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _voc_batch")
        finally:
            self.con.unregister("_voc_batch")

    def record_run(self, source: str, input: str, started_at: datetime, summary: dict) -> None:
        self.con.execute("DELETE FROM runs WHERE source = ?", [source])
        self.con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?)",
                         [source, input, started_at, datetime.now(), json.dumps(summary, ensure_ascii=False)])

    def count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def close(self) -> None:
        self.con.close()


def open_store(path, read_only: bool = False) -> Store:
    return Store(path, read_only=read_only)


class StoreSink:
    """The store as a ``voc score`` sink: rows are buffered and inserted in one transaction
    per checkpoint; ``rollback`` deletes this source's rows after the checkpoint's last row."""

    def __init__(self, store: Store, source: str, columns: Dict[str, Sequence[str]]):
        from ..batch.sinks import arrow_schema, require_pyarrow

        require_pyarrow()
        self.store, self.source = store, source
        self.schemas = {t: arrow_schema(cols, t) for t, cols in columns.items()}
        self._buf: Dict[str, List[dict]] = {t: [] for t in columns}

    def write(self, table: str, rows: Iterable[dict]) -> None:
        self._buf[table].extend(rows)

    def flush(self) -> None:
        import pyarrow as pa

        con = self.store.con
        con.begin()
        try:
            for table, rows in self._buf.items():
                self.store.insert(table, pa.Table.from_pylist(rows, schema=self.schemas[table]), self.source)
            con.commit()
        except Exception:
            con.rollback()
            raise
        self._buf = {t: [] for t in self._buf}

    def rollback(self, last_row: Optional[int]) -> None:
        self.store.delete_source(self.source, after_row=last_row if last_row is not None else 0)
        self._buf = {t: [] for t in self._buf}
