"""The annotation corpus tools (training/annotation.py) on texts written for these tests:
hashing and dedupe, leaving held-out rows out, evidence offsets, the importer's checks, and
agreement figures computed by hand. None of them needs ../shared/data."""

import json

import pytest

from training import annotation as A
from training import corpora
from training.corpora import Record

FAKE = {
    "fake_zh": [
        Record("fake_zh", "0", "服務很好，菜也好吃", {"lang": "zh", "label": 1}),
        Record("fake_zh", "1", "服务很好，菜也好吃", {"lang": "zh", "label": 1}),      # = row 0 after t2s
        Record("fake_zh", "2", "送餐太慢了，但是菜很好吃", {"lang": "zh", "label": 0}),
        Record("fake_zh", "3", "环境一般，服务员态度太差", {"lang": "zh", "label": 0}),
        Record("fake_zh", "4", "好", {"lang": "zh", "label": 1}),                        # too short
        Record("fake_zh", "5", "这家店的价格很实惠，位置也好找", {"lang": "zh", "label": 1}),
        Record("fake_zh", "6", "这是金标里的一条评论，不能再次标注", {"lang": "zh", "label": 0}),
    ],
    "fake_en": [
        Record("fake_en", "a", "Great food. Rude waiter.", {"lang": "en"}),
        Record("fake_en", "b", "great   FOOD. rude waiter.", {"lang": "en"}),            # = row a
        Record("fake_en", "c", "Do you deliver on Sundays?", {"lang": "en"}),
        Record("fake_en", "d", "The delivery was late but the pizza was hot.", {"lang": "en"}),
        Record("fake_en", "e", "Charged twice for one order, please refund me.", {"lang": "en"}),
        Record("fake_en", "f", "The gold review sentence that must never be sampled again.", {"lang": "en"}),
    ],
}
PLAN = (A.Stratum("zh", ("fake_zh",), "zh", "review", 3, True, "label"),
        A.Stratum("en", ("fake_en",), "en", "review", 3, True))


@pytest.fixture
def fake_corpora(monkeypatch):
    def read(corpus, root=None):
        return iter(FAKE[corpus])

    def lookup(refs, root=None):
        index = {(r.corpus, r.id): r for rs in FAKE.values() for r in rs}
        return {(c, str(i)): index[(c, str(i))] for c, i in refs}

    monkeypatch.setattr(corpora, "read", read)
    monkeypatch.setattr(corpora, "lookup", lookup)


@pytest.fixture
def fake_repo(tmp_path):
    (tmp_path / "data/gold").mkdir(parents=True)
    (tmp_path / "data/dev").mkdir(parents=True)
    (tmp_path / "data/gold/x.jsonl").write_text(json.dumps({"corpus": "fake_zh", "id": "6"}) + "\n")
    (tmp_path / "data/dev/y.jsonl").write_text(json.dumps({"corpus": "fake_en", "id": "f"}) + "\n")
    return tmp_path


# ------------------------------------------------------------------ hashing and sampling
@pytest.mark.parametrize("a,b,same", [
    ("服務很好", "服务很好", True),            # Traditional = Simplified
    ("服务很好！", "服务很好!", True),          # full width = half width
    ("Great  food", "great food", True),       # case and whitespace
    ("Ｗｉｆｉ 太慢", "wifi太慢", True),
    ("服务很好", "服务不好", False),
])
def test_text_hash(a, b, same):
    assert (A.text_hash(a) == A.text_hash(b)) is same
    assert len(A.text_hash(a)) == 16 and int(A.text_hash(a), 16) >= 0


def test_heldout_hash_and_containment():
    held = A.HeldOut(["The gold review sentence that must never be sampled again.", "短句"])
    text = "the GOLD review sentence that must never be sampled again."
    assert held.why_excluded(A.text_hash(text), A.hash_form(text)) == "heldout_hash"
    longer = "Intro. The gold review sentence that must never be sampled again. Outro."
    assert held.why_excluded(A.text_hash(longer), A.hash_form(longer)) == "heldout_contained"
    part = "review sentence that must never be"
    assert held.why_excluded(A.text_hash(part), A.hash_form(part)) == "heldout_contained"
    other = "A different sentence about a different restaurant entirely."
    assert held.why_excluded(A.text_hash(other), A.hash_form(other)) is None
    short = "短句很好"   # contains a held-out text shorter than CONTAINED_MIN_CHARS: not a leak
    assert held.why_excluded(A.text_hash(short), A.hash_form(short)) is None


def test_sample_dedupes_excludes_heldout_and_is_deterministic(fake_corpora, fake_repo):
    held = A.HeldOut.from_repo(fake_repo)
    rows, man = A.sample(100, seed=0, plan=PLAN, heldout=held)
    refs = {(r.corpus, r.id) for r in rows}
    hashes = [r.hash for r in rows]
    assert len(hashes) == len(set(hashes))                        # no two equal texts
    assert not {("fake_zh", "0"), ("fake_zh", "1")} <= refs       # only one of the t2s pair
    assert not {("fake_en", "a"), ("fake_en", "b")} <= refs
    assert ("fake_zh", "6") not in refs and ("fake_en", "f") not in refs   # gold and dev rows
    assert ("fake_zh", "4") not in refs                           # too short
    assert man["n"] == len(rows) == 4 + 4
    assert man["skipped"]["heldout_hash"] == 2 and man["skipped"]["length"] == 1
    assert man["by_lang"] == {"en": 4, "zh": 4}
    again, _ = A.sample(100, seed=0, plan=PLAN, heldout=held)
    assert [(r.corpus, r.id) for r in again] == [(r.corpus, r.id) for r in rows]


def test_write_batches(fake_corpora, fake_repo, tmp_path):
    rows, man = A.sample(6, seed=1, plan=PLAN, heldout=A.HeldOut.from_repo(fake_repo))
    out = tmp_path / "batches"
    paths = A.write_batches(rows, man, out, batch_size=4)
    assert [p.name for p in paths] == ["batch_000.jsonl", "batch_001.jsonl"]
    lines = [json.loads(x) for p in paths for x in p.read_text().splitlines()]
    assert len(lines) == 6 and set(lines[0]) == {"corpus", "id", "lang", "text"}
    assert {x["lang"] for x in lines[:4]} == {"zh", "en"}                 # every batch mixed
    assert json.loads((out / "manifest.json").read_text())["batches"] == ["batch_000.jsonl", "batch_001.jsonl"]
    with pytest.raises(SystemExit, match="--force"):
        A.write_batches(rows, man, out, batch_size=4)
    with pytest.raises(SystemExit, match="inside the repository"):
        A.write_batches(rows, man, A.REPO / "tmp_batches", batch_size=4)


def test_allocate_caps_go_to_the_same_language():
    q = A.allocate(100, {"zh1": 1, "zh2": 1, "en": 2}, {"zh1": 5, "zh2": 1000, "en": 1000},
                   {"zh1": "zh", "zh2": "zh", "en": "en"})
    assert q == {"zh1": 5, "zh2": 45, "en": 50}
    assert sum(A.allocate(10, {"a": 1, "b": 1}, {"a": 2, "b": 3}).values()) == 5   # all there is


# ------------------------------------------------------------------ evidence offsets
@pytest.mark.parametrize("text,quote,span,how", [
    ("服务员态度太差，菜还行", "服务员态度太差", (0, 7), "exact"),
    ("Great food. Rude waiter.", "Rude waiter", (12, 23), "exact"),
    ("Great food. Rude waiter.", "rude  waiter", (12, 23), "fuzzy"),        # case, spaces
    ("服務員態度太差", "服务员态度太差", (0, 7), "fuzzy"),                   # Simplified quote of Traditional text
    ("菜很好吃，量也足", "菜很好吃,量也足", (0, 8), "fuzzy"),               # half-width comma
    ("😀😀 the wifi was  slow", "wifi was slow", (7, 21), "fuzzy"),          # code points, not bytes
    ("服务员态度太差", "服务员态度很好", None, "missing"),
    ("anything", "", None, "missing"),
])
def test_resolve_evidence(text, quote, span, how):
    got, kind = A.resolve_evidence(text, quote)
    assert (got, kind) == (span, how)
    if got:
        assert A.hash_form(text[got[0]:got[1]]) == A.hash_form(quote)


# ------------------------------------------------------------------ import
BATCH = {("fake_zh", "3"): {"corpus": "fake_zh", "id": "3", "lang": "zh", "text": "环境一般，服务员态度太差",
                            "batch": "batch_000"},
         ("fake_en", "a"): {"corpus": "fake_en", "id": "a", "lang": "en", "text": "Great food. Rude waiter.",
                            "batch": "batch_000"},
         ("fake_en", "c"): {"corpus": "fake_en", "id": "c", "lang": "en", "text": "Do you deliver on Sundays?",
                            "batch": "batch_000"},
         ("fake_en", "e"): {"corpus": "fake_en", "id": "e", "lang": "en",
                            "text": "Charged twice for one order, please refund me.", "batch": "batch_001"}}


def raw_row(corpus, id_, **kw):
    row = {"corpus": corpus, "id": id_, "lang": None, "sentiment": "negative", "touchpoints": [], "themes": [],
           "stage": "usage", "signals": [], "recommend_polarity": None}
    row.update(kw)
    return json.dumps(row, ensure_ascii=False)


def test_import(tmp_path):
    raw = tmp_path / "raw" / "ann1.jsonl"
    raw.parent.mkdir()
    raw.write_text("\n".join([
        raw_row("fake_zh", "3", lang="zh", touchpoints=[
            {"id": "store", "polarity": "neutral", "evidence": ["环境一般"]},
            {"id": "service", "polarity": "negative", "evidence": ["服务员态度太差", "服务员很凶"]}],
            themes=["respect"], signals=["complaint", "recommend"]),
        raw_row("fake_en", "a", touchpoints=[{"id": "food", "polarity": "positive", "evidence": ["Great food"]}]),
        raw_row("fake_en", "c", sentiment="meh", themes=["speed"]),
        raw_row("fake_en", "e", touchpoints=[{"id": "billing", "polarity": "negative", "evidence": "charged twice"}],
                stage="feedback", signals=["complaint"], recommend_polarity="null"),
        raw_row("fake_en", "e"),
        raw_row("fake_en", "zzz"),
        "not json",
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "data" / "ann1.jsonl"
    rep = A.import_raw(raw, out, BATCH, "ann1")
    assert (rep["read"], rep["written"], rep["rejected"]) == (7, 2, 5)
    assert rep["evidence"] == {"exact": 2, "fuzzy": 1, "dropped": 1}
    assert rep["warnings"] == {"null_written_as_string": 1, "recommend_polarity_inferred": 1}
    assert rep["unlabelled_in_touched_batches"] == {"batch_000": 2}
    stored = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    zh, en = stored
    assert zh["touchpoints"] == {"service": {"polarity": "negative", "evidence": [[5, 12]]},
                                 "store": {"polarity": "neutral", "evidence": [[0, 4]]}}
    assert list(zh["touchpoints"]) == ["service", "store"]                  # taxonomy order
    assert zh["recommend_polarity"] == "negative" and zh["lang"] == "zh" and zh["annotator"] == "ann1"
    assert zh["hash"] == A.text_hash("环境一般，服务员态度太差")
    assert en["touchpoints"]["billing"]["evidence"] == [[0, 13]] and en["lang"] == "en"
    assert en["recommend_polarity"] is None
    assert "text" not in zh and "态度" not in out.read_text(encoding="utf-8")  # no customer words stored
    rejects = [json.loads(x) for x in (tmp_path / "raw" / "ann1.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 3, 5, 6, 7]
    assert "unknown touchpoint id 'food'" in rejects[0]["reasons"][0]
    assert any("bad sentiment" in x for x in rejects[1]["reasons"])
    assert any("unknown theme" in x for x in rejects[1]["reasons"])
    assert "labelled twice" in rejects[2]["reasons"][0]
    assert "in no batch file" in rejects[3]["reasons"][0]
    assert not list(out.parent.glob("*.rejects.jsonl"))                     # rejects stay next to the raw file


def test_load_batches(tmp_path):
    with pytest.raises(SystemExit, match="sample --out"):
        A.load_batches(tmp_path)
    (tmp_path / "batch_000.jsonl").write_text(json.dumps({"corpus": "c", "id": 7, "lang": "en", "text": "t"}) + "\n")
    assert A.load_batches(tmp_path)[("c", "7")]["batch"] == "batch_000"


# ------------------------------------------------------------------ agreement
def stored(id_, sentiment, tps, stage, themes=(), signals=()):
    return {"corpus": "c", "id": id_, "sentiment": sentiment, "stage": stage, "themes": list(themes),
            "signals": list(signals), "touchpoints": {k: {"polarity": v, "evidence": []} for k, v in tps.items()}}


def agreement_files(tmp_path):
    a = [stored("1", "positive", {"product": "positive"}, "usage", ["respect"], ["recommend"]),
         stored("2", "negative", {"service": "negative"}, "usage", [], ["complaint"]),
         stored("3", "neutral", {}, None),
         stored("4", "negative", {"delivery": "negative", "price": "negative"}, "purchase"),
         stored("5", "positive", {}, None)]                                   # only in A
    b = [stored("1", "positive", {"product": "positive", "price": "negative"}, "usage", ["respect", "trust"],
                ["recommend"]),
         stored("2", "negative", {"service": "neutral"}, "feedback", [], ["complaint", "churn_risk"]),
         stored("3", "negative", {}, None),
         stored("4", "negative", {"delivery": "negative"}, "purchase")]
    pa, pb = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    pa.write_text("".join(json.dumps(r) + "\n" for r in a))
    pb.write_text("".join(json.dumps(r) + "\n" for r in b))
    return pa, pb


def test_agreement_by_hand(tmp_path):
    pa, pb = agreement_files(tmp_path)
    res = A.agreement(A.read_stored(pa), A.read_stored(pb))
    assert (res["n_common"], res["only_a"], res["only_b"]) == (4, 1, 0)
    # sentiment: observed 3/4; A = pos 1, neg 2, neu 1; B = pos 1, neg 3: chance 7/16
    assert res["sentiment_kappa"] == pytest.approx((3 / 4 - 7 / 16) / (1 - 7 / 16), abs=1e-4)
    # stage: observed 3/4; A = usage 2, None 1, purchase 1; B = usage 1, feedback 1, None 1, purchase 1: 4/16
    assert res["stage_kappa"] == pytest.approx((3 / 4 - 4 / 16) / (1 - 4 / 16), abs=1e-4)
    assert res["touchpoints"]["f1"] == pytest.approx(2 * 3 / (4 + 4))              # product, service, delivery
    assert res["touchpoint_polarity"]["f1"] == pytest.approx(2 * 2 / (4 + 4))      # product+, delivery-
    assert res["themes"]["f1"] == pytest.approx(2 * 1 / (1 + 2), abs=1e-4)
    assert res["signals"]["f1"] == pytest.approx(2 * 2 / (2 + 3))
    assert res["touchpoints"]["per_label"]["price"]["f1"] == 0.0


def test_kappa_edge_cases():
    assert A.cohen_kappa(["a", "a"], ["a", "a"]) == 1.0
    assert A.cohen_kappa([], []) is None
    assert A.cohen_kappa(["a", "b"], ["b", "a"]) == -1.0
    assert A.micro_f1([set()], [set()])["f1"] is None


def test_agree_cli(tmp_path, capsys):
    pa, pb = agreement_files(tmp_path)
    A.main(["agree", str(pa), str(pb), "--json"])
    assert json.loads(capsys.readouterr().out)["n_common"] == 4
    A.main(["agree", str(pa), str(pb)])
    assert "| sentiment kappa |" in capsys.readouterr().out
