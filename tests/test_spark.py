"""voc on Apache Spark in local mode: the same tables as `voc score`, errors kept, and roll-ups
that equal the pure-Python and DuckDB ones on one sample.

Needs pyspark (the `test` extra) and Java 17 (`.ci/run` installs it); skipped without them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pyspark")
if not shutil.which("java"):
    pytest.skip("Spark needs Java 17 (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data/samples/demo_posts.jsonl"
FIELDS = {"time": "time", "channel": "channel", "customer": "customer", "reach": "reposts", "city": "city"}
N = 300


@pytest.fixture(scope="module")
def spark():
    from voc.spark.job import session

    s = session("local[1]", conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The first N demo posts as Parquet, plus three rows that cannot be scored."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [json.loads(x) for x in SAMPLE.read_text(encoding="utf-8").splitlines()[:N]]
    rows += [{"id": "bad-empty", "text": "   ", "time": "2026-11-01T10:00", "channel": "weibo", "customer": "c1",
              "reposts": 1, "city": "北京"},
             {"id": "bad-null", "text": None, "time": "2026-11-01T10:00", "channel": "weibo", "customer": "c1",
              "reposts": 1, "city": "北京"},
             {"id": "bad-time", "text": "服务很好", "time": "not a time", "channel": "weibo", "customer": "c2",
              "reposts": 2, "city": "上海"}]
    d = tmp_path_factory.mktemp("spark_in")
    pq.write_table(pa.Table.from_pylist(rows), d / "posts.parquet")
    return d / "posts.parquet", rows


@pytest.fixture(scope="module")
def scored(spark, sample):
    from voc.spark import score

    path, _ = sample
    res = score(spark.read.parquet(str(path)), text_col="text", id_col="id", fields=FIELDS, batch_size=64)
    docs = {r["id"]: r.asDict() for r in res.documents.collect()}
    mentions = [r.asDict() for r in res.mentions.collect()]
    errors = {r["id"]: r.asDict() for r in res.errors.collect()}
    return res, docs, mentions, errors


def test_same_columns_as_voc_score(scored):
    from voc.batch.records import Flattener

    res, _, _, _ = scored
    flat = Flattener(("city",))
    assert tuple(res.documents.columns) == flat.doc_columns()
    assert tuple(res.mentions.columns) == flat.mention_columns()
    assert tuple(res.errors.columns) == ("row", "id", "code", "message")


def test_every_row_is_scored_or_reported(scored, sample):
    _, docs, _, errors = scored
    _, rows = sample
    assert len(docs) + len(errors) == len(rows)
    assert {k: v["code"] for k, v in errors.items()} == {"bad-empty": "E101", "bad-null": "E102"}
    assert docs["bad-time"]["warning_code"] == "E109" and docs["bad-time"]["time"] is None


def test_scores_equal_the_local_pipeline(scored, sample):
    import voc

    _, docs, mentions, _ = scored
    _, rows = sample
    nlp = voc.load()
    good = [r for r in rows[:60] if r["id"] in docs]
    for r, d in zip(good, nlp.pipe([r["text"] for r in good])):
        got = docs[r["id"]]
        assert got["sentiment"] == d.sentiment["label"] and got["sentiment_score"] == d.sentiment["score"]
        assert got["touchpoints"] == [t["id"] for t in d.touchpoints]
        assert got["signals"] == [s["id"] for s in d.signals]
        assert got["reach"] == float(r["reposts"]) and got["city"] == r["city"]
        mine = sorted((m["kind"], m["label"], m["sentiment"]) for m in mentions if m["id"] == r["id"])
        local = sorted([("touchpoint", t["id"], t["sentiment"]["label"]) for t in d.touchpoints]
                       + [("theme", t["id"], t["sentiment"]["label"]) for t in d.themes])
        assert mine == local


def test_three_engines_give_one_rollup(spark, tmp_path):
    """The pure functions over records, DuckDB SQL over the store and Spark SQL over Parquet:
    the same sample, the same numbers."""
    from voc import rollup as R
    from voc.cli import main
    from voc.rollup import RecordsSource, StoreSource
    from voc.spark.rollup import SparkSource
    from voc.store import Store

    inp = tmp_path / "posts.jsonl"
    inp.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:600]) + "\n", encoding="utf-8")
    out, db = tmp_path / "scored.parquet", tmp_path / "voc.duckdb"
    assert main(["score", str(inp), "--output", str(out), "--db", str(db), "--time-field", "time",
                 "--channel-field", "channel", "--customer-field", "customer", "--reach-field", "reposts",
                 "--segment-field", "city", "--workers", "1", "-q"]) == 0
    pure = RecordsSource.from_output(out)
    duck = StoreSource(Store(str(db), read_only=True))
    sp = SparkSource(spark.read.parquet(str(out)), spark.read.parquet(str(tmp_path / "scored.mentions.parquet")))
    f = R.Filters()
    views = {name: {"scores": R.rollup(src, "touchpoint", ("label", "channel"), None, f),
                    "weekly": R.rollup(src, "touchpoint", ("label",), "week", f),
                    "priorities": R.prioritize(src, "touchpoint", f)["ranking"],
                    "journeys": R.journey_scores(src, f, limit=None)}
             for name, src in (("pure", pure), ("duckdb", duck), ("spark", sp))}

    def norm(x):
        if isinstance(x, float):
            return round(x, 6)
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items() if k != "source"}
        if isinstance(x, list):
            return [norm(v) for v in x]
        return x

    def key(rows):
        return sorted((norm(r) for r in rows), key=lambda r: json.dumps(r, sort_keys=True, default=str))

    for view in ("scores", "weekly", "priorities"):
        assert key(views["spark"][view]) == key(views["pure"][view]) == key(views["duckdb"][view]), view
    assert norm(views["spark"]["journeys"]) == norm(views["duckdb"]["journeys"])
    v = sp.verbatims("touchpoint", "service", f, "negative", 3)
    assert v and all(x["sentiment"] == "negative" and x["text"] for x in v)


def test_cli_engine_spark_writes_partitioned_tables_and_rolls_up(sample, tmp_path, capsys):
    from voc.cli import main

    path, rows = sample
    out = tmp_path / "out"
    args = ["score", str(path), "--engine", "spark", "--master", "local[1]", "--output", str(out),
            "--time-field", "time", "--channel-field", "channel", "--customer-field", "customer",
            "--reach-field", "reposts", "--segment-field", "city", "-q"]
    assert main(args) == 1  # two records could not be scored: exit 1, like voc score
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["read"] == len(rows) and summary["errors_by_code"] == {"E101": 1, "E102": 1}
    assert any(p.name.startswith("date=") for p in (out / "documents").iterdir())
    assert (out / "documents" / "_SUCCESS").exists()
    # a rerun overwrites: the same rows once, never twice
    assert main(args) == 1
    capsys.readouterr()
    assert main(["rollup", str(out), "--format", "json"]) == 0
    pure = json.loads(capsys.readouterr().out)
    assert main(["rollup", str(out), "--engine", "spark", "--master", "local[1]", "--format", "json"]) == 0
    spark_view = json.loads(capsys.readouterr().out)
    assert pure == spark_view
    assert sum(r["volume"] for r in pure["ranking"]) == sum(
        1 for _ in __import__("pyarrow.dataset", fromlist=["dataset"]).dataset(str(out / "mentions"),
                                                                               partitioning="hive").to_table()
        .filter(__import__("pyarrow.compute", fromlist=["x"]).field("kind") == "touchpoint").to_pylist())


def test_missing_column_is_a_coded_error(spark, sample):
    from voc.spark import SparkError, score

    path, _ = sample
    with pytest.raises(SparkError) as e:
        score(spark.read.parquet(str(path)), text_col="body")
    assert e.value.code == "E404" and "body" in e.value.message


def test_readme_spark_example(spark, tmp_path, monkeypatch, capsys):
    """The README's Spark block, line by line, after its first set-up command's scoring step:
    the Spark roll-up is byte-for-byte the DuckDB one."""
    import re
    import shlex

    from voc.cli import main

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("### On Apache Spark", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    setup = next(line for line in readme.splitlines() if line.startswith("python3 -m venv") and "demo.duckdb" in line)
    first = next(c.strip() for c in setup.split("&&") if c.strip().startswith("voc score"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").symlink_to(REPO / "data")
    files = {}
    for line in [first] + [x for x in block.strip().splitlines() if x.strip()]:
        if line.startswith("cmp "):
            a, b = shlex.split(line.split("&&")[0])[1:3]
            assert (tmp_path / a).read_bytes() == (tmp_path / b).read_bytes()
            continue
        cmd, _, target = line.partition(">")
        argv = shlex.split(cmd)
        assert argv[0] == "voc", line
        argv = [a for a in argv[1:]]
        if "--engine" in argv and "--master" not in argv:
            argv += ["--master", "local[1]"]
        capsys.readouterr()
        assert main(argv) == 0, line
        out = capsys.readouterr().out
        if target.strip():
            files[target.strip()] = out
            (tmp_path / target.strip()).write_text(out, encoding="utf-8")
    assert re.search(r'"key_experience"', files["spark-rollup.json"])
