"""The hand-labelled gold set: well-formed references, valid labels, never a copied text."""

import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
GOLD = sorted((REPO / "data" / "gold").glob("*.jsonl"))
TAX = yaml.safe_load((REPO / "data" / "taxonomy.yaml").read_text(encoding="utf-8"))
IDS = {k: {x["id"] for x in TAX[k]} for k in ("touchpoints", "themes", "stages", "signals")}
POL = {"positive", "neutral", "negative"}


def rows():
    for f in GOLD:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            yield f.name, n, json.loads(line)


def test_gold_set_size_and_languages():
    rs = [r for _, _, r in rows()]
    assert len(rs) >= 600
    assert {f.stem.split("_")[0] for f in GOLD} == {"zh", "en"}


def test_gold_rows_are_valid_references_with_valid_labels():
    seen = set()
    for name, n, r in rows():
        where = f"{name}:{n}"
        assert "text" not in r, f"{where}: gold rows must not copy texts"
        assert r["corpus"] and str(r["id"]), where
        assert (r["corpus"], str(r["id"])) not in seen, f"{where}: duplicate reference"
        seen.add((r["corpus"], str(r["id"])))
        assert r["sentiment"] in POL, where
        assert set(r["touchpoints"]) <= IDS["touchpoints"] and set(r["touchpoints"].values()) <= POL, where
        assert set(r["themes"]) <= IDS["themes"], where
        assert r["stage"] is None or r["stage"] in IDS["stages"], where
        assert set(r["signals"]) <= IDS["signals"], where


def test_dev_rows_are_references_disjoint_from_gold():
    dev = [json.loads(x) for x in (REPO / "data/dev/zh_sentiment.jsonl").read_text(encoding="utf-8").splitlines()]
    refs = [(r["corpus"], str(r["id"])) for r in dev]
    assert len(refs) == len(set(refs)) == 460
    assert all(set(r) == {"corpus", "id", "sentiment"} and r["sentiment"] in POL for r in dev)
    assert not set(refs) & {(r["corpus"], str(r["id"])) for _, _, r in rows()}


def test_gold_matches_the_sampler():
    pytest.importorskip("training.corpora")
    from tests.conftest import SHARED

    if not SHARED.exists():
        pytest.skip("../shared/data is not present")
    from training.gold_sample import sample

    for f in GOLD:
        expected = [(r.corpus, r.id) for r in sample(f.stem)]
        got = [(r["corpus"], str(r["id"])) for r in (json.loads(x) for x in f.read_text(encoding="utf-8").splitlines())]
        assert got == expected, f.name


def test_dev_set_matches_the_sampler():
    from tests.conftest import SHARED

    if not SHARED.exists():
        pytest.skip("../shared/data is not present")
    from training.dev_sample import sample, sample_more

    got = [(r["corpus"], str(r["id"])) for r in
           map(json.loads, (REPO / "data/dev/zh_sentiment.jsonl").read_text(encoding="utf-8").splitlines())]
    assert got == [(r.corpus, r.id) for r in sample() + sample_more()]


def test_taxonomy_ids_are_the_public_contract():
    assert [t["id"] for t in TAX["touchpoints"]] == [
        "product", "price", "service", "customer_support", "store", "location", "delivery", "digital",
        "after_sales", "billing", "marketing", "membership"]
    assert [t["id"] for t in TAX["themes"]] == ["trust", "convenience", "commitment", "respect", "autonomy", "choice",
                                                "knowledge", "recognition", "benefit", "identity"]
    assert [t["id"] for t in TAX["stages"]] == ["awareness", "consideration", "purchase", "usage", "feedback"]
    assert [t["id"] for t in TAX["signals"]] == ["complaint", "churn_risk", "escalation", "recommend", "repurchase"]
    for kind in ("touchpoints", "themes", "stages", "signals"):
        for t in TAX[kind]:
            assert t["zh"] and t["en"] and t["description"]
