"""Where roll-ups read scored records from: Python lists (pure functions, notebooks, tests)
or the DuckDB store (SQL). Both answer the same four questions with the same numbers, so
every metric in :mod:`voc.rollup.metrics` is computed once, from what they return:

- ``mention_stats``: per group, the sufficient statistics of the mentions' experience scores
  (count, sum, sum of squares, positive/neutral/negative counts, and reach-weighted sums);
- ``driver_rows``: per document with touchpoints, each touchpoint's sentiment and the overall
  sentiment (for key-driver analysis);
- ``journey_rows``: per customer, its documents' times and overall sentiment (peak-end);
- ``verbatims``: the posts behind a number, with their evidence spans.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..errors import E_INPUT_FILE, E_ROLLUP, InputError

BUCKETS = ("day", "week", "month", "quarter", "year")
FIXED_DIMENSIONS = ("label", "channel", "language", "source")
STAT_KEYS = ("n", "s1", "s2", "pos", "neu", "neg", "w", "ws1", "wpos", "wneg")


def reach_weight(reach) -> float:
    """A mention's weight in the word-of-mouth variants: ``1 + log10(1 + reach)``."""
    r = reach if reach is not None and reach == reach and reach > 0 else 0.0
    return 1.0 + math.log10(1.0 + r)


def bucket_start(t: Optional[datetime], bucket: str) -> Optional[str]:
    """The first day of ``t``'s period as ``YYYY-MM-DD`` (weeks start on Monday)."""
    if t is None:
        return None
    d = t.date() if isinstance(t, datetime) else t
    if bucket == "day":
        pass
    elif bucket == "week":
        d = d - timedelta(days=d.weekday())
    elif bucket == "month":
        d = d.replace(day=1)
    elif bucket == "quarter":
        d = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    elif bucket == "year":
        d = date(d.year, 1, 1)
    return d.isoformat()


@dataclass
class Filters:
    """Which records a roll-up covers. ``segments`` are equality filters on passed-through columns."""

    start: Optional[datetime] = None
    end: Optional[datetime] = None          # exclusive
    channel: Optional[str] = None
    language: Optional[str] = None
    labels: Optional[Sequence[str]] = None
    source: Optional[str] = None
    segments: Dict[str, str] = field(default_factory=dict)

    def keep(self, r: dict) -> bool:
        t = r.get("time")
        if self.start is not None and (t is None or t < self.start):
            return False
        if self.end is not None and (t is None or t >= self.end):
            return False
        for k, v in (("channel", self.channel), ("language", self.language), ("source", self.source)):
            if v is not None and r.get(k) != v:
                return False
        return all(r.get(k) == v for k, v in self.segments.items())

    def sql(self, alias: str = "", quote: str = '"') -> Tuple[str, list]:
        """The filters as a SQL condition with ``?`` parameters; ``quote`` wraps segment
        column names (DuckDB ``"x"``, Spark SQL ```x```)."""
        a = alias + "." if alias else ""
        conds, args = [], []
        if self.start is not None:
            conds.append(f"{a}time >= ?")
            args.append(self.start)
        if self.end is not None:
            conds.append(f"{a}time < ?")
            args.append(self.end)
        for k, v in (("channel", self.channel), ("language", self.language), ("source", self.source)):
            if v is not None:
                conds.append(f"{a}{k} = ?")
                args.append(v)
        for k, v in self.segments.items():
            conds.append(f"{a}{quote}{k}{quote} = ?")
            args.append(v)
        return (" AND ".join(conds) or "TRUE"), args


def parse_when(value: Optional[str], name: str) -> Optional[datetime]:
    """An ISO date or date-time for a roll-up filter (``--from``, ``to=``), or a coded E408."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {value!r} is not an ISO date such as 2026-11-01.", E_ROLLUP) from None


def _check_by(by: Sequence[str], allowed: Sequence[str]) -> None:
    for b in by:
        if b not in allowed:
            raise InputError(f"Cannot group by {b!r}; dimensions here: {', '.join(allowed)}.", E_ROLLUP)


def _check_bucket(bucket: Optional[str]) -> None:
    if bucket is not None and bucket not in BUCKETS:
        raise InputError(f"Unknown time bucket {bucket!r}; use one of {', '.join(BUCKETS)}.", E_ROLLUP)


class RecordsSource:
    """Scored records in memory: ``documents`` and ``mentions`` as lists of dicts (the rows
    ``voc score`` writes). ``RecordsSource.from_output("scored.parquet")`` reads a run's files."""

    def __init__(self, documents: Iterable[dict], mentions: Iterable[dict], source: Optional[str] = None):
        self.documents = [dict(d) for d in documents]
        self.mentions = [dict(m) for m in mentions]
        for r in self.documents + self.mentions:
            r.setdefault("source", source)
            if isinstance(r.get("time"), str):
                r["time"] = datetime.fromisoformat(r["time"])

    @classmethod
    def from_output(cls, path) -> "RecordsSource":
        from ..batch.sinks import sink_paths

        if Path(path).is_dir():  # `voc score --engine spark --output FOLDER`: Parquet datasets
            docs, mentions = (Path(path) / "documents", Path(path) / "mentions")
            if not docs.is_dir() or not mentions.is_dir():
                raise InputError(f"No scored output in the folder {path}: expected documents/ and mentions/ "
                                 "(written by `voc score INPUT --engine spark --output FOLDER`).", E_INPUT_FILE)
            return cls(_read_dataset(docs), _read_dataset(mentions), source=Path(path).name)
        p = sink_paths(Path(path))
        if not p["documents"].exists() or not p["mentions"].exists():
            raise InputError(f"No scored output at {path}: expected {p['documents']} and {p['mentions']} "
                             "(written by `voc score INPUT --output FILE`).", E_INPUT_FILE)
        return cls(_read_table(p["documents"]), _read_table(p["mentions"]), source=Path(path).name)

    def segments(self) -> List[str]:
        from ..batch.records import DOC_COLUMNS

        keys = dict.fromkeys(k for d in self.documents[:1000] for k in d)
        return [k for k in keys if k not in DOC_COLUMNS and k != "source"]

    def dimensions(self) -> List[str]:
        return list(FIXED_DIMENSIONS) + self.segments()

    def _mentions(self, kind: str, f: Filters):
        labels = set(f.labels) if f.labels else None
        for m in self.mentions:
            if m["kind"] == kind and (labels is None or m["label"] in labels) and f.keep(m):
                yield m

    def mention_stats(self, kind: str, by: Sequence[str] = ("label",), bucket: Optional[str] = None,
                      filters: Optional[Filters] = None) -> List[dict]:
        _check_by(by, self.dimensions())
        _check_bucket(bucket)
        f = filters or Filters()
        groups: Dict[tuple, List[float]] = {}
        for m in self._mentions(kind, f):
            key = tuple(m.get(b) for b in by) + ((bucket_start(m.get("time"), bucket),) if bucket else ())
            if bucket and key[-1] is None:
                continue
            g = groups.setdefault(key, [0.0] * len(STAT_KEYS))
            x, w, lab = m["score"], reach_weight(m.get("reach")), m["sentiment"]
            g[0] += 1
            g[1] += x
            g[2] += x * x
            g[3] += lab == "positive"
            g[4] += lab == "neutral"
            g[5] += lab == "negative"
            g[6] += w
            g[7] += w * x
            g[8] += w * (lab == "positive")
            g[9] += w * (lab == "negative")
        names = list(by) + (["period"] if bucket else [])
        return [{**dict(zip(names, k)), **dict(zip(STAT_KEYS, v))} for k, v in groups.items()]

    def driver_rows(self, kind: str, filters: Optional[Filters] = None) -> Tuple[List[str], list, list]:
        f = filters or Filters()
        per_doc: Dict[tuple, Dict[str, float]] = {}
        y: Dict[tuple, float] = {}
        for m in self._mentions(kind, f):
            k = (m.get("source"), m["row"])
            per_doc.setdefault(k, {})[m["label"]] = m["sentiment_score"]
            y[k] = m["doc_sentiment_score"]
        labels = sorted({lab for d in per_doc.values() for lab in d})
        keys = sorted(per_doc, key=lambda k: (k[0] or "", k[1]))
        return labels, [[per_doc[k].get(lab, 0.0) for lab in labels] for k in keys], [y[k] for k in keys]

    def journey_rows(self, filters: Optional[Filters] = None) -> List[tuple]:
        f = filters or Filters()
        rows = [(d["customer"], d["time"], d["row"], d["sentiment_score"]) for d in self.documents
                if d.get("customer") is not None and d.get("time") is not None and f.keep(d)]
        return sorted(rows, key=lambda r: (r[0], r[1], r[2]))

    def verbatims(self, kind: str, label: str, filters: Optional[Filters] = None, polarity: Optional[str] = None,
                  limit: int = 5) -> List[dict]:
        f = filters or Filters()
        texts = {(d.get("source"), d["row"]): d.get("text") for d in self.documents}
        hits = [m for m in self._mentions(kind, f) if m["label"] == label
                and (polarity is None or m["sentiment"] == polarity)]
        hits.sort(key=lambda m: (m["sentiment_score"] if polarity != "positive" else -m["sentiment_score"],
                                 -(m.get("reach") or 0), str(m.get("source")), m["row"]))
        return [_verbatim(m, texts.get((m.get("source"), m["row"]))) for m in hits[:limit]]


def _verbatim(m: dict, text: Optional[str]) -> dict:
    ev = m.get("evidence")
    spans = json.loads(ev) if isinstance(ev, str) else (ev or [])
    return {"id": m["id"], "row": m["row"], "source": m.get("source"), "time": m.get("time"),
            "channel": m.get("channel"), "reach": m.get("reach"), "text": text, "sentiment": m["sentiment"],
            "sentiment_score": m["sentiment_score"], "evidence": [list(s) for s in spans]}


def _read_dataset(folder: Path) -> List[dict]:
    """A Parquet dataset folder (Spark's output; ``date=`` partition folders are not a column)."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(folder), format="parquet", partitioning="hive",
                       exclude_invalid_files=True).to_table()
    if "date" in table.column_names:
        table = table.drop(["date"])
    return table.to_pylist()


def _read_table(path: Path) -> List[dict]:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# The SQL of the roll-up's questions, shared by DuckDB (StoreSource) and Spark SQL
# (voc.spark.rollup.SparkSource): both take ``?`` parameters and these functions and clauses.
def stats_sql(table: str, cond: str, keys: str) -> str:
    """Sufficient statistics (:data:`STAT_KEYS`) per group ``keys`` of the mentions passing ``cond``."""
    return f"""
        WITH m AS (SELECT *, 1 + log10(1 + greatest(coalesce(reach, 0), 0)) AS w FROM {table} WHERE {cond})
        SELECT {keys}, count(*) AS n, sum(score), sum(score * score),
               count(*) FILTER (WHERE sentiment = 'positive'), count(*) FILTER (WHERE sentiment = 'neutral'),
               count(*) FILTER (WHERE sentiment = 'negative'), sum(w), sum(w * score),
               coalesce(sum(w) FILTER (WHERE sentiment = 'positive'), 0),
               coalesce(sum(w) FILTER (WHERE sentiment = 'negative'), 0)
        FROM m GROUP BY {keys}"""


def mention_where(kind: str, f: Filters, quote: str = '"') -> Tuple[str, list]:
    """The condition on the mentions table for one kind (touchpoint, theme...) under ``f``."""
    cond, args = f.sql(quote=quote)
    cond = f"kind = ? AND {cond}"
    args = [kind] + args
    if f.labels:
        cond += f" AND label IN ({', '.join('?' * len(f.labels))})"
        args += list(f.labels)
    return cond, args


def stat_rows(rows, names: Sequence[str]) -> List[dict]:
    """Rows of :func:`stats_sql` (group keys, then ``STAT_KEYS``) as dicts."""
    k = len(names)
    return [{**dict(zip(names, r[:k])), **dict(zip(STAT_KEYS, r[k:]))} for r in rows]


def driver_sql(table: str, cond: str) -> str:
    return f"""SELECT coalesce(source, '') AS src, row, label, sentiment_score, doc_sentiment_score
               FROM {table} WHERE {cond} ORDER BY 1, 2"""


def journey_sql(table: str, cond: str) -> str:
    return f"""SELECT customer, time, row, sentiment_score FROM {table}
               WHERE customer IS NOT NULL AND time IS NOT NULL AND {cond} ORDER BY customer, time, row"""


class StoreSource:
    """The DuckDB store: the same questions as :class:`RecordsSource`, answered in SQL."""

    def __init__(self, store):
        self.store = store
        self.con = store.con

    def segments(self) -> List[str]:
        return self.store.segments()

    def dimensions(self) -> List[str]:
        return list(FIXED_DIMENSIONS) + self.segments()

    def mention_stats(self, kind: str, by: Sequence[str] = ("label",), bucket: Optional[str] = None,
                      filters: Optional[Filters] = None) -> List[dict]:
        _check_by(by, self.dimensions())
        _check_bucket(bucket)
        cond, args = mention_where(kind, filters or Filters())
        keys = [f'"{b}"' for b in by]
        if bucket:
            keys.append(f"strftime(date_trunc('{bucket}', time), '%Y-%m-%d')")
            cond += " AND time IS NOT NULL"
        sel = ", ".join(keys)
        sql = stats_sql("mentions", cond, sel)
        return stat_rows(self.con.execute(sql, args).fetchall(), list(by) + (["period"] if bucket else []))

    def driver_rows(self, kind: str, filters: Optional[Filters] = None) -> Tuple[List[str], list, list]:
        import numpy as np

        cond, args = mention_where(kind, filters or Filters())
        data = self.con.execute(driver_sql("mentions", cond), args).fetchnumpy()
        labels = sorted(set(data["label"].tolist()))
        if not labels:
            return [], [], []
        col = {lab: i for i, lab in enumerate(labels)}
        src, row = data["src"], data["row"]
        key = np.array([f"{s}\x00{r}" for s, r in zip(src.tolist(), row.tolist())])
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        doc_index = np.cumsum(np.r_[False, key[1:] != key[:-1]])
        X = np.zeros((len(starts), len(labels)))
        X[doc_index, [col[lab] for lab in data["label"].tolist()]] = data["sentiment_score"]
        y = np.asarray(data["doc_sentiment_score"])[starts]
        return labels, X.tolist(), y.tolist()

    def journey_rows(self, filters: Optional[Filters] = None) -> List[tuple]:
        cond, args = (filters or Filters()).sql()
        return self.con.execute(journey_sql("documents", cond), args).fetchall()

    def verbatims(self, kind: str, label: str, filters: Optional[Filters] = None, polarity: Optional[str] = None,
                  limit: int = 5) -> List[dict]:
        fc, fa = (filters or Filters()).sql("m")
        order = "m.sentiment_score DESC" if polarity == "positive" else "m.sentiment_score"
        sql = f"""SELECT m.* , d.text FROM mentions m JOIN documents d
                  ON d.row = m.row AND d.source IS NOT DISTINCT FROM m.source
                  WHERE m.kind = ? AND m.label = ? AND {fc} {"AND m.sentiment = ?" if polarity else ""}
                  ORDER BY {order}, coalesce(m.reach, 0) DESC, m.source, m.row LIMIT {int(limit)}"""
        args = [kind, label] + fa + ([polarity] if polarity else [])
        cur = self.con.execute(sql, args)
        names = [c[0] for c in cur.description]
        return [_verbatim(dict(zip(names, r)), dict(zip(names, r))["text"]) for r in cur.fetchall()]
