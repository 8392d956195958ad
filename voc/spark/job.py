"""``voc score --engine spark``: read a dump with Spark, score it on the executors, write the
documents, mentions and errors tables as Parquet datasets.

Output folder layout (each a Parquet dataset Spark commits atomically: files are written under
``_temporary`` and moved into place when the job succeeds, then ``_SUCCESS`` is written; a
rerun overwrites, so it neither duplicates nor loses rows)::

    OUT/documents/date=2026-11-30/part-....parquet    (partitioned by date when a time field is given)
    OUT/mentions/date=2026-11-30/part-....parquet
    OUT/errors/part-....parquet
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, Optional

from ..errors import E_INPUT_FILE, E_INPUT_FORMAT
from . import SparkError, require_pyspark, score

SPARK_FORMATS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv"}


def session(master: Optional[str] = None, app: str = "voc", conf: Optional[Dict[str, str]] = None):
    """A SparkSession for voc: UTC session time zone (times are UTC wall times, as ``voc score``
    writes them) and Arrow transfer for ``mapInPandas``. ``master``: ``local[N]`` by default,
    or a cluster URL; under ``spark-submit`` the master given there wins."""
    require_pyspark()
    import os
    import sys

    from pyspark.sql import SparkSession

    # local mode: the Python workers run this interpreter (with voc and its libraries), not
    # whatever "python3" is first on PATH; on a cluster spark-submit's settings win
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = SparkSession.builder.appName(app)
    if master:
        b = b.master(master)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.ui.showConsoleProgress": "false", "spark.sql.shuffle.partitions": "8",
                # scoring costs ~0.3 ms a text, reading ~1 us: small input splits keep every core busy
                # (an 89 MB dump is one 128 MB split by default, so one task, one core)
                "spark.sql.files.maxPartitionBytes": "8m",
                # local mode: the driver is the executor (default heap 1 GB); a cluster sets its own
                "spark.driver.memory": "2g"}
    settings.update(conf or {})
    for k, v in settings.items():
        b = b.config(k, v)
    try:
        return b.getOrCreate()
    except Exception as e:  # noqa: BLE001 - Java missing or broken: say what to install
        raise SparkError(f"Could not start Spark ({type(e).__name__}: {str(e)[:200]}). Local mode needs Java 17: "
                         "apt-get install openjdk-17-jre-headless (or set JAVA_HOME).") from e


def spark_path(path: str) -> str:
    """A local path made absolute (the JVM's working folder need not be ours); URLs as given."""
    return path if "://" in str(path) else str(Path(path).resolve())


def read_input(spark, path: str, fmt: Optional[str] = None):
    """A dump as a DataFrame: Parquet (file or folder), JSON Lines or CSV with a header."""
    path = spark_path(path)
    p = Path(path)
    if fmt is None:
        suffixes = [s for s in p.suffixes if s != ".gz"]
        fmt = "parquet" if p.is_dir() else SPARK_FORMATS.get(suffixes[-1].lower() if suffixes else "", None)
    if fmt is None:
        raise SparkError(f"Cannot tell the format of {path}; with --engine spark use .parquet (file or folder), "
                         f".jsonl or .csv, or give --format.", E_INPUT_FORMAT)
    fmt = {"jsonl": "json", "tsv": "csv"}.get(fmt, fmt)
    if not p.exists() and "://" not in path:
        raise SparkError(f"No input at {path}: check the path.", E_INPUT_FILE)
    reader = spark.read
    if fmt == "csv":
        reader = reader.option("header", True).option("sep", "\t" if p.suffix.lower() == ".tsv" else ",")
    return reader.format(fmt).load(path)


def score_to_parquet(spark, input_path: str, output: str, text_col: str = "text", id_col: Optional[str] = "id",
                     fields: Optional[Dict[str, str]] = None, model: Optional[str] = None, fmt: Optional[str] = None,
                     batch_size: int = 256, keep_text: bool = True, partitions: Optional[int] = None) -> dict:
    """Score ``input_path`` into ``output``/{documents,mentions,errors}; the summary reconciles
    read = scored + errors like ``voc score``'s."""
    from pyspark.sql import functions as F

    t0 = time.time()
    df = read_input(spark, input_path, fmt)
    if id_col and id_col not in df.columns:
        id_col = None  # as voc score: no id column, the record number is the id
    if not partitions:  # every core gets work: at least two tasks per core Spark offers
        want = 2 * spark.sparkContext.defaultParallelism
        partitions = want if df.rdd.getNumPartitions() < want else None
    if partitions:
        df = df.repartition(partitions)
    res = score(df, text_col=text_col, id_col=id_col, model=model, fields=fields, batch_size=batch_size,
                keep_text=keep_text)
    docs, mentions = res.documents, res.mentions
    by_date = bool(fields and fields.get("time"))
    if by_date:
        docs = docs.withColumn("date", F.to_date("time"))
        mentions = mentions.withColumn("date", F.to_date("time"))
    base = spark_path(output).rstrip("/")
    out = {k: f"{base}/{k}" for k in ("documents", "mentions", "errors")}  # URLs (s3://) kept intact
    w = docs.write.mode("overwrite")
    (w.partitionBy("date") if by_date else w).parquet(out["documents"])
    w = mentions.write.mode("overwrite")
    (w.partitionBy("date") if by_date else w).parquet(out["mentions"])
    res.errors.write.mode("overwrite").parquet(out["errors"])
    counts = {r["k"]: r["n"] for r in res.scored.groupBy(
        F.when(F.col("__error_code").isNull(), "scored").otherwise(F.col("__error_code")).alias("k")).count()
        .withColumnRenamed("count", "n").collect()}
    n_mentions = spark.read.parquet(out["mentions"]).count()
    res.scored.unpersist()
    scored = counts.pop("scored", 0)
    errors = sum(counts.values())
    secs = round(time.time() - t0, 1)
    return {"engine": "spark", "master": spark.sparkContext.master, "read": scored + errors, "scored": scored,
            "errors": errors, "errors_by_code": dict(sorted(counts.items())), "mentions": n_mentions,
            "seconds": secs, "rows_per_second": round((scored + errors) / secs, 1) if secs else None,
            "outputs": out,
            "partitioned_by": "date" if by_date else None}
