"""The CLI and input readers: every record comes back, broken ones with a coded error."""

import io
import json
import sys

import pytest

from voc import cli
from voc.errors import E_BAD_RECORD, E_EMPTY, E_MISSING_FIELD, E_NOT_TEXT, E_TOO_LONG, InputError
from voc.io import read_records


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_analyze_texts(use_tiny, capsys):
    code, recs, _ = run(["analyze", "rude waiter", "菜很好吃"], capsys)
    assert code == 0 and [r["id"] for r in recs] == ["1", "2"]
    assert recs[0]["touchpoints"][0]["id"] == "service"


def test_broken_jsonl_keeps_every_neighbour(use_tiny, tmp_path, capsys):
    f = tmp_path / "in.jsonl"
    big = "rude waiter " * 100_000  # ~1.2 MB
    f.write_text("\n".join([
        json.dumps({"id": "a", "text": "the food was great"}),
        '{"id": "b", "text": "broken',
        json.dumps({"id": "c", "body": "no text field"}),
        json.dumps({"id": "d", "text": "   "}),
        json.dumps({"id": "e", "text": 5}),
        "[1, 2]",
        json.dumps({"id": "g", "text": big}),
        json.dumps({"id": "h", "text": "服务员态度很差"}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = cli.main(["analyze", "--input", str(f), "--output", str(out)])
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert code == 1
    assert [r["id"] for r in recs] == ["a", "2", "c", "d", "e", "6", "g", "h"]
    codes = [r["error"]["code"] if r["error"] else None for r in recs]
    assert codes == [None, E_BAD_RECORD, E_MISSING_FIELD, E_EMPTY, E_NOT_TEXT, E_BAD_RECORD, E_TOO_LONG, None]
    assert recs[0]["sentiment"]["label"] == "positive"
    assert recs[6]["touchpoints"], "oversized text is still analysed (its head)"
    assert recs[7]["touchpoints"][0]["id"] == "service"
    assert "records have errors" in capsys.readouterr().err


def test_csv_with_fields(use_tiny, tmp_path, capsys):
    f = tmp_path / "in.csv"
    f.write_text("review_id,review\nr1,rude waiter\nr2,\nr3\n", encoding="utf-8")
    code, recs, _ = run(["analyze", "--input", str(f), "--text-field", "review", "--id-field", "review_id"], capsys)
    assert code == 1
    assert [(r["id"], (r["error"] or {}).get("code")) for r in recs] == [("r1", None), ("r2", E_EMPTY),
                                                                         ("r3", E_MISSING_FIELD)]


def test_csv_without_text_column_is_a_usage_error(use_tiny, tmp_path, capsys):
    f = tmp_path / "in.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    code, recs, err = run(["analyze", "--input", str(f)], capsys)
    assert code == 2 and not recs and "--text-field" in err


def test_txt_and_stdin(use_tiny, tmp_path, capsys, monkeypatch):
    f = tmp_path / "in.txt"
    f.write_text("rude waiter\n\ngreat food\n", encoding="utf-8")
    code, recs, _ = run(["analyze", "--input", str(f)], capsys)
    assert [r["id"] for r in recs] == ["1", "2", "3"] and recs[1]["error"]["code"] == E_EMPTY and code == 1
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO('{"text": "rude waiter"}\n'.encode())))
    code, recs, _ = run(["analyze", "--input", "-"], capsys)
    assert code == 0 and recs[0]["touchpoints"][0]["id"] == "service"


def test_missing_file_and_unknown_extension(use_tiny, tmp_path, capsys):
    code, _, err = run(["analyze", "--input", str(tmp_path / "nope.jsonl")], capsys)
    assert code == 2 and "E401" in err
    (tmp_path / "x.xlsx").write_text("x")
    code, _, err = run(["analyze", "--input", str(tmp_path / "x.xlsx")], capsys)
    assert code == 2 and "--format" in err


def test_help_reads_like_a_tool(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    for words in ("--input", "--text-field", "--id-field", "exit status", "examples"):
        assert words in out


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "analyze" in capsys.readouterr().out


@pytest.mark.parametrize("line,code", [("not json", E_BAD_RECORD), ('"just a string"', E_BAD_RECORD),
                                       ('{"id": 1}', E_MISSING_FIELD), ('{"text": null}', E_NOT_TEXT)])
def test_read_records_jsonl_errors(tmp_path, line, code):
    f = tmp_path / "x.jsonl"
    f.write_text(line + "\n", encoding="utf-8")
    [row] = list(read_records(str(f)))
    assert isinstance(row.text, InputError) and row.text.code == code
