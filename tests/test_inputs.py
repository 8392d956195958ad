"""The input path a new user hits: every record ends as a result or a coded error.

Covers the six defects of the batch issue: lone surrogates, encodings, output paths and
broken pipes, blank lines, the packaged model, and the worker engine's ordering.
"""

import codecs
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from voc import cli
from voc.errors import (E_BAD_BYTES, E_BAD_UNICODE, E_EMPTY, E_ENCODING, E_INTERNAL, E_OUTPUT)
from voc.io import Row, read_records

REPO = Path(__file__).resolve().parents[1]


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


# ----------------------------------------------------------------- 1. lone surrogates, E199
@pytest.mark.parametrize("batch_size", [1, 4])
def test_lone_surrogate_is_analysed_and_flagged(use_tiny, tmp_path, capsys, batch_size):
    f = tmp_path / "s.jsonl"
    lines = ['{"id": "a", "text": "服务员态度很差\\ud800再也不来"}', '{"id": "b", "text": "菜很好吃"}',
             '{"id": "c\\udfff", "text": "rude waiter"}']
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, recs, _ = run(["analyze", "--input", str(f), "--batch-size", str(batch_size)], capsys)
    assert [r["id"] for r in recs] == ["a", "b", "c\ufffd"]
    assert recs[0]["error"]["code"] == E_BAD_UNICODE and recs[0]["sentiment"] is not None
    assert recs[1]["error"] is None
    assert code == 1


def test_lone_surrogate_through_pipe(tiny_nlp):
    [doc] = list(tiny_nlp.pipe(["服务很差\ud800再也不来了"], batch_size=1))
    assert doc.error["code"] == E_BAD_UNICODE
    assert doc.text == "服务很差\ufffd再也不来了"  # same length: offsets stay valid
    json.dumps(doc.to_dict(), ensure_ascii=False).encode("utf-8")


def test_a_failing_record_becomes_e199_even_alone(tiny_nlp, monkeypatch):
    stage = tiny_nlp.get_pipe("clauses")
    original = type(stage).__call__

    def boom(self, doc):
        if "boom" in doc.text:
            raise RuntimeError("kaboom")
        return original(self, doc)

    monkeypatch.setattr(type(stage), "__call__", boom)
    for batch_size in (1, 3):
        docs = list(tiny_nlp.pipe(["rude waiter", "boom", "菜很好吃"], batch_size=batch_size))
        assert [d.error["code"] if d.error else None for d in docs] == [None, E_INTERNAL, None]


# ----------------------------------------------------------------------- 2. encodings
def test_gbk_file_is_refused_with_a_hint_then_read_with_encoding(use_tiny, tmp_path, capsys):
    f = tmp_path / "gbk.csv"
    f.write_bytes("id,text\n1,服务员态度很差\n2,菜很好吃\n".encode("gbk"))
    code, recs, err = run(["analyze", "--input", str(f)], capsys)
    assert code == 2 and recs == [] and E_ENCODING in err and "gb18030" in err
    code, recs, _ = run(["analyze", "--input", str(f), "--encoding", "gbk"], capsys)
    assert code == 0 and [r["id"] for r in recs] == ["1", "2"]
    assert recs[0]["touchpoints"][0]["evidence"][0]["text"] == "服务员"


@pytest.mark.parametrize("bom_codec", ["utf-16", "utf-8-sig"])
def test_byte_order_marks_are_honoured(tmp_path, bom_codec):
    f = tmp_path / "bom.jsonl"
    f.write_bytes('{"id": "x", "text": "送餐太慢了"}\n{"id": "y", "text": "great food"}\n'.encode(bom_codec))
    rows = list(read_records(str(f)))
    assert [(r.id, r.text) for r in rows] == [("x", "送餐太慢了"), ("y", "great food")]


def test_utf16_without_bom_is_named(tmp_path):
    f = tmp_path / "u16.txt"
    f.write_bytes("送餐太慢了\nthe food was great\n".encode("utf-16-le"))
    with pytest.raises(Exception) as e:
        list(read_records(str(f)))
    assert getattr(e.value, "code", None) == E_ENCODING and "utf-16-le" in str(e.value)


def test_one_undecodable_line_is_an_e108_record(use_tiny, tmp_path, capsys):
    f = tmp_path / "mixed.jsonl"
    good = '{"id": "%s", "text": "服务员态度很差"}\n'
    f.write_bytes((good % "a").encode() + b'{"id": "b", "text": "\xff\xfe bad bytes"}\n' + (good % "c").encode())
    code, recs, _ = run(["analyze", "--input", str(f)], capsys)
    assert [r["id"] for r in recs] == ["a", "2", "c"]
    assert recs[1]["error"]["code"] == E_BAD_BYTES and recs[0]["error"] is None and recs[2]["error"] is None
    assert code == 1


def test_csv_row_spanning_lines_with_bad_bytes(tmp_path):
    f = tmp_path / "multi.csv"
    f.write_bytes(b'id,text\n1,"line one\nline \xff two"\n2,fine\n' + "3,菜很好吃\n4,送餐太慢\n".encode())
    rows = list(read_records(str(f), "csv"))
    assert isinstance(rows[0].text, Exception) and rows[0].text.code == E_BAD_BYTES
    assert [(r.id, r.text) for r in rows[1:]] == [("2", "fine"), ("3", "菜很好吃"), ("4", "送餐太慢")]


# ----------------------------------------------------------------------- 3. output paths, pipes
def test_bad_output_paths_are_usage_errors(use_tiny, tmp_path, capsys):
    code, _, err = run(["analyze", "rude waiter", "--output", str(tmp_path / "no" / "such" / "x.jsonl")], capsys)
    assert code == 2 and E_OUTPUT in err and "does not exist" in err
    code, _, err = run(["analyze", "rude waiter", "--output", str(tmp_path)], capsys)
    assert code == 2 and E_OUTPUT in err and "folder" in err


def test_broken_pipe_is_quiet(tiny_model_dir, tmp_path):
    f = tmp_path / "many.jsonl"
    f.write_text("".join(json.dumps({"id": i, "text": "rude waiter, great food"}) + "\n" for i in range(3000)),
                 encoding="utf-8")
    cmd = f"{sys.executable} -m voc.cli analyze --model {tiny_model_dir} --input {f} | head -1"
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert p.stdout.count("\n") == 1
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr


# ----------------------------------------------------------------------- 4. blank lines
def test_every_jsonl_line_comes_out(use_tiny, tmp_path, capsys):
    lines = [json.dumps({"id": f"r{i}", "text": "送餐太慢了"}) for i in range(9)]
    lines.insert(4, "")
    (tmp_path / "ten.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, recs, _ = run(["analyze", "--input", str(tmp_path / "ten.jsonl")], capsys)
    assert len(recs) == 10 and recs[4]["error"]["code"] == E_EMPTY and code == 1


def test_blank_csv_and_txt_rows_are_reported(tmp_path):
    (tmp_path / "b.csv").write_text("id,text\n1,hello there\n\n3,again\n", encoding="utf-8")
    rows = list(read_records(str(tmp_path / "b.csv")))
    assert [getattr(r.text, "code", None) for r in rows] == [None, E_EMPTY, None]
    (tmp_path / "b.txt").write_text("one\n   \nthree\n", encoding="utf-8")
    rows = list(read_records(str(tmp_path / "b.txt")))
    assert len(rows) == 3 and rows[1].text.code == E_EMPTY


# ----------------------------------------------------------------------- 5. the packaged model
@pytest.mark.slow
def test_wheel_carries_the_default_model(tmp_path):
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                        str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    [whl] = tmp_path.glob("voc-*.whl")
    names = set(zipfile.ZipFile(whl).namelist())
    model = REPO / "models" / "voc-default"
    for f in model.rglob("*"):
        if f.is_file():
            assert f"voc/models/voc-default/{f.relative_to(model).as_posix()}" in names
    assert "voc/rollup/default.yaml" in names


def test_default_model_path_prefers_the_packaged_copy(tmp_path, monkeypatch):
    import voc.pipeline as P

    fake = tmp_path / "voc" / "pipeline.py"
    (tmp_path / "voc" / "models" / "voc-default").mkdir(parents=True)
    (tmp_path / "voc" / "models" / "voc-default" / "config.json").write_text("{}")
    monkeypatch.setattr(P, "__file__", str(fake))
    assert P.default_model_path() == tmp_path / "voc" / "models" / "voc-default"


# ----------------------------------------------------------------------- 6. the worker engine
def test_engine_keeps_order_with_workers(tiny_nlp):
    from voc.batch import engine

    texts = [f"rude waiter number {i}" if i % 3 else "" for i in range(700)]
    rows = [Row(i + 1, str(i), t, {}) for i, t in enumerate(texts)]
    out = [x for b in engine.run(tiny_nlp, rows, lambda r, d: (d.id, d.error and d.error["code"]), workers=2,
                                 batch_size=16) for x in b]
    assert [i for i, _ in out] == [str(i) for i in range(700)]
    assert [c for _, c in out] == [None if i % 3 else E_EMPTY for i in range(700)]


def test_pipe_with_two_processes_equals_one(tiny_nlp):
    texts = ["rude waiter", "菜很好吃，服务员态度很差", "送餐太慢了", "great food"] * 40
    one = [d.to_dict(tokens=True, clauses=True) for d in tiny_nlp.pipe(texts, batch_size=8)]
    two = [d.to_dict(tokens=True, clauses=True) for d in tiny_nlp.pipe(texts, batch_size=8, n_process=2)]
    assert one == two
