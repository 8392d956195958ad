"""The roll-up engine's questions answered with Spark SQL over scored tables.

``SparkSource`` answers what :class:`voc.rollup.sources.StoreSource` answers in DuckDB (the
sufficient statistics per group, the key-driver matrix, journeys, verbatims), so every
function of :mod:`voc.rollup` (``rollup``, ``prioritize``, ``trends``, ``overview``) runs on it
unchanged and gives the same numbers:

    from voc import rollup
    from voc.spark.rollup import SparkSource
    src = SparkSource(spark.read.parquet(".../documents"), spark.read.parquet(".../mentions"))
    rollup.prioritize(src)
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from ..batch.records import DOC_COLUMNS
from ..rollup.sources import (FIXED_DIMENSIONS, Filters, _check_bucket, _check_by, _verbatim, driver_sql,
                              journey_sql, mention_where, stat_rows, stats_sql)

_VIEW = re.compile(r"[^A-Za-z0-9_]")


class SparkSource:
    """Scored ``documents`` and ``mentions`` DataFrames (``voc.spark.score`` or ``voc score``'s
    Parquet read by Spark) as a roll-up source."""

    def __init__(self, documents, mentions, name: str = "voc"):
        self.spark = documents.sparkSession
        name = _VIEW.sub("_", name)
        if "source" not in documents.columns:
            from pyspark.sql import functions as F

            documents = documents.withColumn("source", F.lit(None).cast("string"))
            mentions = mentions.withColumn("source", F.lit(None).cast("string"))
        self.documents, self.mentions = documents, mentions
        self.d, self.m = f"{name}_documents", f"{name}_mentions"
        documents.createOrReplaceTempView(self.d)
        mentions.createOrReplaceTempView(self.m)

    def segments(self) -> List[str]:
        fixed = set(DOC_COLUMNS) | {"source"}
        return [c for c in self.documents.columns if c not in fixed]

    def dimensions(self) -> List[str]:
        return list(FIXED_DIMENSIONS) + self.segments()

    def _sql(self, sql: str, args: list):
        return self.spark.sql(sql, args=args).collect()


    def mention_stats(self, kind: str, by: Sequence[str] = ("label",), bucket: Optional[str] = None,
                      filters: Optional[Filters] = None) -> List[dict]:
        _check_by(by, self.dimensions())
        _check_bucket(bucket)
        cond, args = mention_where(kind, filters or Filters(), "`")
        keys = [f"`{b}`" for b in by]
        if bucket:
            keys.append(f"date_format(date_trunc('{bucket}', time), 'yyyy-MM-dd')")
            cond += " AND time IS NOT NULL"
        sel = ", ".join(keys)
        sql = stats_sql(self.m, cond, sel)
        return stat_rows(self._sql(sql, args), list(by) + (["period"] if bucket else []))

    def driver_rows(self, kind: str, filters: Optional[Filters] = None) -> Tuple[List[str], list, list]:
        cond, args = mention_where(kind, filters or Filters(), "`")
        rows = self._sql(driver_sql(self.m, cond), args)
        labels = sorted({r[2] for r in rows})
        if not labels:
            return [], [], []
        col = {lab: i for i, lab in enumerate(labels)}
        X, y, last = [], [], None
        for src, row, label, s, ds in rows:
            if (src, row) != last:
                X.append([0.0] * len(labels))
                y.append(ds)
                last = (src, row)
            X[-1][col[label]] = s
        return labels, X, y

    def journey_rows(self, filters: Optional[Filters] = None) -> List[tuple]:
        cond, args = (filters or Filters()).sql(quote="`")
        return [tuple(r) for r in self._sql(journey_sql(self.d, cond), args)]

    def verbatims(self, kind: str, label: str, filters: Optional[Filters] = None, polarity: Optional[str] = None,
                  limit: int = 5) -> List[dict]:
        fc, fa = (filters or Filters()).sql("m", "`")
        order = "m.sentiment_score DESC" if polarity == "positive" else "m.sentiment_score"
        sql = f"""SELECT m.*, d.text FROM {self.m} m JOIN {self.d} d
                  ON d.row = m.row AND d.source <=> m.source
                  WHERE m.kind = ? AND m.label = ? AND {fc} {"AND m.sentiment = ?" if polarity else ""}
                  ORDER BY {order}, coalesce(m.reach, 0D) DESC, m.source, m.row LIMIT {int(limit)}"""
        rows = self._sql(sql, [kind, label] + fa + ([polarity] if polarity else []))
        return [_verbatim(r.asDict(), r["text"]) for r in rows]
