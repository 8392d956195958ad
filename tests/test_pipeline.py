"""Contract tests on a tiny pipeline the test fits itself (no shipped model needed)."""

import json

import pytest

import voc
from voc.errors import E_EMPTY, E_MODEL_FORMAT, E_MODEL_MISSING, E_NOT_TEXT, InputError, ModelError
from voc.pipeline import STAGE_ORDER

TEXTS = ["The food was great but the waiter was rude", "菜很好吃，但是服务员态度很差，再也不来了",
         "delivery was slow", "我今天下单了", "we won't be back", "還會再來"]


def test_stage_order(tiny_nlp):
    assert tiny_nlp.pipe_names == list(STAGE_ORDER)


def test_overfits_tiny_data(tiny_nlp):
    from tests.conftest import TINY_DATA

    for text, sent, tps in TINY_DATA:
        doc = tiny_nlp(text)
        assert doc.sentiment["label"] == sent, text
        assert {t["id"] for t in doc.touchpoints} >= set(tps), text


def test_pipe_equals_call(tiny_nlp):
    one = [tiny_nlp(t).to_dict() for t in TEXTS]
    assert [d.to_dict() for d in tiny_nlp.pipe(TEXTS, batch_size=2)] == one


def test_pipe_multiprocess_equals_single(tiny_nlp):
    one = [d.to_dict() for d in tiny_nlp.pipe(TEXTS)]
    assert [d.to_dict() for d in tiny_nlp.pipe(TEXTS, batch_size=2, n_process=2)] == one


def test_save_load_same_predictions(tiny_nlp, tmp_path):
    tiny_nlp.to_disk(tmp_path / "m")
    loaded = voc.load(tmp_path / "m")
    assert [d.to_dict() for d in loaded.pipe(TEXTS)] == [d.to_dict() for d in tiny_nlp.pipe(TEXTS)]
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert all(c["factory"].endswith(".v1") for c in cfg["components"])


def test_no_pickle_in_model_folder(tiny_nlp, tmp_path):
    tiny_nlp.to_disk(tmp_path / "m")
    suffixes = {p.suffix for p in (tmp_path / "m").rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".txt", ".tsv", ".npz", ".md"}


def test_unknown_format_version_is_refused(tiny_nlp, tmp_path):
    tiny_nlp.to_disk(tmp_path / "m")
    cfg_path = tmp_path / "m" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["format_version"] = 99
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(ModelError) as e:
        voc.load(tmp_path / "m")
    assert e.value.code == E_MODEL_FORMAT


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelError) as e:
        voc.load(tmp_path / "nothing")
    assert e.value.code == E_MODEL_MISSING


@pytest.mark.parametrize("bad,code", [("", E_EMPTY), ("   \n", E_EMPTY), (None, E_NOT_TEXT), (42, E_NOT_TEXT)])
def test_call_rejects_bad_input(tiny_nlp, bad, code):
    with pytest.raises(InputError) as e:
        tiny_nlp(bad)
    assert e.value.code == code


def test_pipe_reports_bad_rows_in_place(tiny_nlp):
    docs = list(tiny_nlp.pipe(["good food", "", None, "rude waiter"]))
    assert [d.error["code"] if d.error else None for d in docs] == [None, E_EMPTY, E_NOT_TEXT, None]
    assert docs[3].touchpoints


def test_record_schema(tiny_nlp):
    rec = tiny_nlp("The food was great but the waiter was rude", id="r1").to_dict()
    assert set(rec) == {"id", "language", "sentiment", "touchpoints", "themes", "stage", "signals", "error"}
    assert rec["id"] == "r1" and rec["error"] is None
    assert set(rec["sentiment"]) == {"label", "score", "confidence"}
    assert -1 <= rec["sentiment"]["score"] <= 1 and 0 <= rec["sentiment"]["confidence"] <= 1
    for t in rec["touchpoints"] + rec["themes"]:
        assert set(t) == {"id", "confidence", "sentiment", "evidence"}
    for s in rec["signals"]:
        assert set(s) == {"id", "confidence", "evidence"}
    assert rec["stage"] is None or set(rec["stage"]) == {"id", "confidence"}


@pytest.mark.parametrize("text", TEXTS + ["這家餐廳的服務員態度很差！！", "ＴＨＥ ＦＯＯＤ was great @bob https://x.co/1 #yum"])
def test_evidence_offsets_index_raw_text(tiny_nlp, text):
    rec = tiny_nlp(text).to_dict(tokens=True, clauses=True)
    spans = [e for k in ("touchpoints", "themes", "signals") for t in rec[k] for e in t["evidence"]]
    spans += rec["tokens"] + rec["clauses"]
    for s in spans:
        assert text[s["start"]:s["end"]] == s["text"]


def test_contrast_gives_each_touchpoint_its_own_sentiment(tiny_nlp):
    doc = tiny_nlp("The food was great but the waiter was rude")
    tps = {t["id"]: t["sentiment"]["label"] for t in doc.touchpoints}
    assert tps.get("product") == "positive" and tps.get("service") == "negative"


def test_negated_repurchase_is_churn(tiny_nlp):
    ids = {s["id"] for s in tiny_nlp("we won't be back").signals}
    assert "churn_risk" in ids and "repurchase" not in ids


def test_oversized_text_is_truncated_with_error(tiny_nlp):
    from voc.errors import E_TOO_LONG

    text = "rude waiter. " * 5000
    doc = list(tiny_nlp.pipe([text]))[0]
    assert doc.error["code"] == E_TOO_LONG
    assert doc.text == text and doc.touchpoints
