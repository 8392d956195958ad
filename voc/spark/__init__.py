"""voc on Apache Spark: score a DataFrame of customer texts inside the Spark job you already run,
and compute the roll-ups with Spark SQL.

    from voc.spark import score
    scored = score(spark.read.parquet("s3://lake/posts/"), text_col="body", id_col="post_id",
                   fields={"time": "created_at", "channel": "platform"})
    scored.documents.write.partitionBy("date").parquet("s3://lake/voc/documents")
    scored.mentions.write.parquet("s3://lake/voc/mentions")
    scored.errors.write.parquet("s3://lake/voc/errors")

The tables have the columns ``voc score`` writes (:mod:`voc.batch.records`), so the DuckDB
store, the roll-ups and BI tools read either. Texts go through ``mapInPandas``: each Python
worker process loads the model once (a per-process cache, reused across tasks and batches) and
scores batches of ``batch_size`` texts. The model folder travels with the job
(``SparkContext.addFile``); nothing is downloaded. A record that cannot be scored goes to the
``errors`` table with the same codes as ``voc score``; none is dropped.

Requires the optional extra ``voc[spark]`` (pyspark) and Java 17.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Optional

from ..batch.records import DOC_COLUMNS, ERROR_COLUMNS, FATAL, MENTION_COLUMNS, ROLE_FIELDS, Flattener
from ..errors import E_DEPENDENCY, E_MISSING_COLUMN, VocError

_MODELS: Dict[str, object] = {}  # per Python worker process: model key -> Pipeline


class SparkError(VocError):
    """A Spark job voc cannot run (missing pyspark, a column not in the input)."""

    def __init__(self, message: str, code: str = E_DEPENDENCY):
        super().__init__(message, code)


def require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        raise SparkError("voc on Spark needs pyspark: pip install 'voc[spark]' (and Java 17 for local mode: "
                         "apt-get install openjdk-17-jre-headless).") from e


@dataclass
class Scored:
    """The three tables of one scoring job (lazy DataFrames over one cached scoring pass)."""

    documents: object
    mentions: object
    errors: object
    scored: object  # the cached pass itself; ``scored.unpersist()`` when done


def spark_types(columns, kind: str):
    """The Spark schema of a documents / mentions / errors table: the Parquet types of
    ``voc score`` (:func:`voc.batch.sinks.arrow_schema`), ``time`` as a timestamp without
    time zone (UTC wall time, as ``voc score`` writes it)."""
    from pyspark.sql import types as T

    simple = {"row": T.LongType(), "time": T.TimestampNTZType(), "reach": T.DoubleType(),
              "sentiment_score": T.DoubleType(), "sentiment_confidence": T.DoubleType(),
              "confidence": T.DoubleType(), "score": T.DoubleType(), "doc_sentiment_score": T.DoubleType(),
              "evidence_start": T.IntegerType(), "evidence_end": T.IntegerType(),
              "touchpoints": T.ArrayType(T.StringType()), "themes": T.ArrayType(T.StringType()),
              "signals": T.ArrayType(T.StringType())}
    return T.StructType([T.StructField(c, simple.get(c, T.StringType()), True) for c in columns])


def _model_key(model: Optional[str]) -> str:
    return str(Path(model).resolve()) if model else ""


def _load(shipped_name: Optional[str], local_path: str):
    """The worker's model: the shipped copy (``SparkFiles``) when the job shipped one, else the
    path as given (the driver's, valid in local mode and on shared file systems), loaded once
    per Python worker process."""
    key = shipped_name or local_path
    nlp = _MODELS.get(key)
    if nlp is None:
        import voc

        path = local_path or None
        if shipped_name:
            from pyspark import SparkFiles

            cand = Path(SparkFiles.get(shipped_name))
            if (cand / "config.json").exists():
                path = str(cand)
        nlp = voc.load(path)
        nlp.warm()
        _MODELS[key] = nlp
    return nlp


def score(df, text_col: str = "text", id_col: Optional[str] = "id", model: Optional[str] = None,
          fields: Optional[Dict[str, str]] = None, batch_size: int = 256, keep_text: bool = True,
          ship_model: bool = True, row_col: Optional[str] = None) -> Scored:
    """Score ``df`` (a Spark DataFrame) and return its documents, mentions and errors tables.

    ``fields`` maps roles and segments to columns, as ``voc score --field`` does:
    ``{"time": "created_at", "channel": "platform", "region": "region"}``. ``row_col``: a column
    numbering the records (else a unique, not contiguous, number from Spark). ``model``: a model
    folder (default: the shipped one); with ``ship_model`` it is added to the job's files so
    executors on other machines get the same folder.
    """
    require_pyspark()
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    fields = dict(fields or {})
    missing = [c for c in [text_col, id_col, row_col, *fields.values()] if c and c not in df.columns]
    if missing:
        raise SparkError(f"The DataFrame has no column {missing[0]!r} (columns: {', '.join(df.columns)}); "
                         f"name the text with text_col=, the id with id_col= and the rest with fields=.", E_MISSING_COLUMN)
    segments = tuple(k for k in fields if k not in ROLE_FIELDS)
    flat = Flattener(segments, keep_text=keep_text)
    doc_cols, mention_cols = flat.doc_columns(), flat.mention_columns()
    shipped = None
    if model and ship_model:
        sc = df.sparkSession.sparkContext
        shipped = Path(model).resolve().name
        if shipped not in getattr(sc, "_voc_shipped", set()):
            sc.addFile(str(Path(model).resolve()), recursive=True)
            sc._voc_shipped = getattr(sc, "_voc_shipped", set()) | {shipped}
    local = _model_key(model)

    cols = [F.col(text_col).alias("__text")]
    cols.append((F.col(id_col).cast("string") if id_col else F.lit(None).cast("string")).alias("__id"))
    cols.append((F.col(row_col).cast("long") if row_col else F.monotonically_increasing_id() + 1).alias("__row"))
    for role, col in fields.items():
        cols.append(F.col(col).alias(f"__f_{role}"))
    src = df.select(*cols)
    out_schema = T.StructType(list(spark_types(doc_cols, "documents").fields) + [
        T.StructField("__error_code", T.StringType()), T.StructField("__error_message", T.StringType()),
        T.StructField("__mentions", T.StringType())])
    names = [f.name for f in out_schema.fields]

    def run(batches: Iterator) -> Iterator:
        import pandas as pd

        from ..io import Row

        nlp = _load(shipped, local)
        for pdf in batches:
            for start in range(0, len(pdf), batch_size):
                part = pdf.iloc[start:start + batch_size]
                texts, ids = _values(part["__text"]), _values(part["__id"])
                rows_n = part["__row"].tolist()
                field_values = {role: part[f"__f_{role}"].tolist() for role in fields}
                out = []
                for k, doc in enumerate(nlp.pipe(texts, batch_size=batch_size, ids=ids)):
                    n = int(rows_n[k])
                    rid = doc.id if doc.id is not None else str(n)
                    row = Row(n, rid, doc.text, {r: _plain(v[k]) for r, v in field_values.items()})
                    d, mentions, err = flat(row, doc)
                    if err is not None:
                        rec = {c: None for c in doc_cols}
                        rec.update(row=n, id=rid, __error_code=err["code"], __error_message=err["message"],
                                   __mentions="[]")
                    else:
                        rec = dict(d, __error_code=None, __error_message=None,
                                   __mentions=json.dumps(mentions, default=_json_default, ensure_ascii=False))
                    out.append(rec)
                yield pd.DataFrame(out, columns=names)

    # on disk, not in the JVM heap: a 1M-row pass cached in memory ran a 1 GB local-mode heap out
    # of memory (docs/benchmarks.md); the three writes read it back from local disk
    scored = src.mapInPandas(run, out_schema).persist(StorageLevel.DISK_ONLY)
    ok = scored.where(F.col("__error_code").isNull())
    documents = ok.select(*doc_cols)
    mention_schema = T.ArrayType(spark_types(mention_cols, "mentions"))
    mentions = (ok.select(F.explode(F.from_json("__mentions", mention_schema, {"timestampFormat":
                                                                                 "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS]"}))
                          .alias("m")).select("m.*"))
    errors = scored.where(F.col("__error_code").isNotNull()).select(
        "row", "id", F.col("__error_code").alias("code"), F.col("__error_message").alias("message"))
    return Scored(documents, mentions, errors, scored)


def _values(column) -> list:
    """A pandas column as a list, missing cells (None, NaN) as None."""
    return [None if v is None or (isinstance(v, float) and v != v) else v for v in column.tolist()]


def _plain(v):
    """A pandas cell as a plain Python value (NaN and NaT as None, numpy scalars unwrapped)."""
    try:
        import pandas as pd

        if v is None or (not isinstance(v, (list, tuple, dict)) and pd.isna(v)):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, (list, tuple, dict, str, bytes)):
        return v.item()
    return v


def _json_default(x):
    from datetime import datetime

    if isinstance(x, datetime):
        return x.strftime("%Y-%m-%dT%H:%M:%S.%f")
    raise TypeError(type(x).__name__)


__all__ = ["score", "Scored", "SparkError", "spark_types", "ERROR_COLUMNS", "DOC_COLUMNS", "MENTION_COLUMNS",
           "FATAL"]
