"""voc score: every input row ends in the documents or the errors table, exactly once,
also across a SIGKILL and --resume."""

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from voc import cli
from voc.batch import ScoreSettings, score_file
from voc.errors import E_BAD_BYTES, E_BAD_RECORD, E_BAD_TIME, E_EMPTY, E_NOT_TEXT, E_RESUME, InputError

POSTS = ["服务员态度很差，再也不来了", "菜很好吃", "送餐太慢了", "rude waiter but great food", "the delivery was late",
         "great food", "菜很好吃，服务员态度很差"]


def write_dump(path, n, broken=True):
    lines = []
    for i in range(n):
        lines.append(json.dumps({"post_id": f"p{i}", "body": POSTS[i % len(POSTS)],
                                 "created": f"2026-{1 + i % 6:02d}-{1 + i % 27:02d}T08:00:00",
                                 "platform": ["weibo", "dianping"][i % 2], "likes": i % 40,
                                 "user": f"u{i % 50}", "region": ["north", "south"][i % 3 == 0]},
                                ensure_ascii=False))
    if broken:
        lines[3] = ""                                   # blank line
        lines[5] = '{"post_id": "p5", "body": '          # broken JSON
        lines[7] = json.dumps({"post_id": "p7", "body": 42})
        lines[9] = json.dumps({"post_id": "p9", "body": "菜很好吃", "created": "last tuesday"})
    data = "\n".join(lines).encode("utf-8") + b"\n"
    if broken:  # one line whose bytes are not UTF-8
        data += b'{"post_id": "bad", "body": "\xff\xfe"}\n'
    path.write_bytes(data)
    return path


FIELDS = {"time": "created", "channel": "platform", "reach": "likes", "customer": "user", "region": "region"}


def settings(src, **kw):
    base = dict(text_field="body", id_field="post_id", fields=FIELDS, workers=1, batch_size=8, progress=False)
    base.update(kw)
    return ScoreSettings(str(src), **base)


@pytest.mark.parametrize("ext", [".jsonl", ".parquet"])
def test_score_accounts_for_every_row(tiny_nlp, tmp_path, ext):
    import duckdb

    src = write_dump(tmp_path / "dump.jsonl", 60)
    out = tmp_path / f"scored{ext}"
    summary = score_file(tiny_nlp, settings(src, output=str(out), db=str(tmp_path / "voc.duckdb")))
    assert summary["read"] == 61 == summary["scored"] + summary["errors"]
    assert summary["errors_by_code"] == {E_EMPTY: 1, E_BAD_RECORD: 1, E_NOT_TEXT: 1, E_BAD_BYTES: 1}
    assert summary["warnings_by_code"] == {E_BAD_TIME: 1}
    from voc.rollup.sources import _read_table

    docs = _read_table(out)
    errors = _read_table(tmp_path / "scored.errors.jsonl")
    assert len(docs) == summary["scored"] and len(errors) == 4
    assert sorted([d["row"] for d in docs] + [e["row"] for e in errors]) == list(range(1, 62))
    doc = next(d for d in docs if d["id"] == "p0")
    assert doc["channel"] == "weibo" and doc["region"] == "south" and doc["reach"] == 0.0
    assert str(doc["time"]).startswith("2026-01-01")
    mentions = _read_table(tmp_path / f"scored.mentions{ext}")
    assert len(mentions) == summary["mentions"] > 0
    m = next(m for m in mentions if m["id"] == "p0")
    assert m["kind"] == "touchpoint" and m["label"] == "service" and m["region"] == "south"
    assert m["evidence_text"] == POSTS[0][m["evidence_start"]:m["evidence_end"]]
    con = duckdb.connect(str(tmp_path / "voc.duckdb"))
    assert con.execute("select count(*), count(distinct id) from documents").fetchone() == (summary["scored"],) * 2
    assert con.execute("select count(*) from errors").fetchone()[0] == 4
    assert not (tmp_path / "scored.checkpoint.json").exists()


def test_rescoring_a_source_replaces_its_rows(tiny_nlp, tmp_path):
    import duckdb

    src = write_dump(tmp_path / "dump.jsonl", 30, broken=False)
    db = str(tmp_path / "voc.duckdb")
    for _ in range(2):
        score_file(tiny_nlp, settings(src, db=db))
    other = write_dump(tmp_path / "other.jsonl", 10, broken=False)
    score_file(tiny_nlp, settings(other, db=db))
    con = duckdb.connect(db)
    assert con.execute("select source, count(*) from documents group by 1 order by 1").fetchall() == [
        ("dump.jsonl", 30), ("other.jsonl", 10)]


def test_csv_gz_and_parquet_inputs(tiny_nlp, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": f"x{i}", "text": POSTS[i % len(POSTS)], "ts": 1767225600 + 86400 * i} for i in range(20)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    s = score_file(tiny_nlp, ScoreSettings(str(tmp_path / "in.parquet"), output=str(tmp_path / "a.jsonl"),
                                           fields={"time": "ts"}, progress=False))
    assert s["scored"] == 20
    first = json.loads((tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["time"].startswith("2026-01-01")
    with gzip.open(tmp_path / "in.csv.gz", "wt", encoding="utf-8") as f:
        f.write("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in rows))
    s = score_file(tiny_nlp, ScoreSettings(str(tmp_path / "in.csv.gz"), output=str(tmp_path / "b.parquet"),
                                           progress=False))
    assert s["scored"] == 20 and s["errors"] == 0


def test_usage_errors_leave_nothing_behind(tiny_nlp, tmp_path):
    src = write_dump(tmp_path / "dump.jsonl", 5, broken=False)
    with pytest.raises(InputError) as e:
        score_file(tiny_nlp, settings(src, output=str(tmp_path / "missing" / "x.parquet")))
    assert e.value.code == "E405"
    with pytest.raises(InputError) as e:
        score_file(tiny_nlp, settings(src, output=str(tmp_path / "x.parquet"), resume=True))
    assert e.value.code == E_RESUME
    (tmp_path / "t.csv").write_text("id,text\n1,菜很好吃\n", encoding="utf-8")
    with pytest.raises(InputError) as e:  # a mapped column missing from the header
        score_file(tiny_nlp, ScoreSettings(str(tmp_path / "t.csv"), output=str(tmp_path / "x.parquet"),
                                           fields={"time": "nope_time"}, progress=False))
    assert e.value.code == "E404" and "--time-field" in e.value.message
    assert not list(tmp_path.glob("x*"))
    score_file(tiny_nlp, settings(src, output=str(tmp_path / "x.parquet")))
    with pytest.raises(InputError) as e:  # no silent overwrite
        score_file(tiny_nlp, settings(src, output=str(tmp_path / "x.parquet")))
    assert e.value.code == "E405"


def test_cli_score_summary_reconciles(tiny_model_dir, tmp_path, capsys):
    src = write_dump(tmp_path / "dump.jsonl", 40)
    code = cli.main(["score", str(src), "--output", str(tmp_path / "o.parquet"), "--model", str(tiny_model_dir),
                     "--text-field", "body", "--id-field", "post_id", "--time-field", "created",
                     "--segment-field", "region", "--workers", "2", "--batch-size", "4", "--quiet"])
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert code == 1 and summary["read"] == 41 and summary["scored"] == 37 and summary["errors"] == 4
    assert "read 41 = scored 37 + errors 4" in err and "o.errors.jsonl" in err


def _kill_midway(cmd, checkpoint, min_rows):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if json.loads(checkpoint.read_text())["rows_done"] >= min_rows:
                break
        except (OSError, ValueError, KeyError):
            pass
        if p.poll() is not None:
            raise AssertionError("the run finished before it could be killed: " + p.stderr.read().decode()[-500:])
        time.sleep(0.01)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()


@pytest.mark.parametrize("ext", [".jsonl", ".parquet"])
def test_sigkill_then_resume_gives_every_id_once(tiny_model_dir, tmp_path, ext):
    import duckdb

    from voc.rollup.sources import _read_table

    n = 6000
    src = write_dump(tmp_path / "big.jsonl", n)
    out, db = tmp_path / f"s{ext}", tmp_path / "s.duckdb"
    cmd = [sys.executable, "-m", "voc.cli", "score", str(src), "--output", str(out), "--db", str(db),
           "--model", str(tiny_model_dir), "--text-field", "body", "--id-field", "post_id", "--workers", "2",
           "--batch-size", "50", "--checkpoint-every", "300", "--quiet"]
    _kill_midway(cmd, tmp_path / "s.checkpoint.json", 1200)
    done = json.loads((tmp_path / "s.checkpoint.json").read_text())["rows_done"]
    assert 0 < done < n + 1
    p = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stderr[-2000:]  # 1: some rows are in the errors table
    summary = json.loads(p.stdout)
    assert summary["read"] == n + 1 and summary["resumed_after"] == done
    ids = [d["id"] for d in _read_table(out)] + [e["id"] for e in _read_table(tmp_path / "s.errors.jsonl")]
    assert len(ids) == n + 1 and len(set(ids)) == n + 1
    con = duckdb.connect(str(db))
    assert con.execute("select count(*), count(distinct row) from documents").fetchone() == (n - 3, n - 3)
    assert con.execute("select count(*) from errors").fetchone()[0] == 4
    assert not (tmp_path / "s.checkpoint.json").exists()
