"""`voc train` and `voc eval` on a small taxonomy and rows written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import voc
from voc.cli import main
from voc.evaluate import confusion, expected_calibration_error, multilabel_report, prf
from voc.labelled import read_labelled
from voc.taxonomy import taxonomy_from_dict
from voc.trainer import TrainConfig, train

TAXONOMY = {
    "format": 1, "name": "mini-airline",
    "touchpoints": [
        {"id": "flight", "en": "Flight", "zh": "航班"},
        {"id": "delay", "en": "Delay", "zh": "延误", "parent": "flight", "stage": "usage",
         "seeds": {"en": ["delayed", "late"], "zh": ["延误", "晚点"]}},
        {"id": "baggage", "en": "Baggage", "zh": "行李", "seeds": {"en": ["bag", "luggage"], "zh": ["行李"]}},
        {"id": "crew", "en": "Crew", "zh": "机组", "seeds": {"en": ["crew", "attendant"], "zh": ["空姐", "乘务员"]},
         "rules": {"en": [r"flight attendants?"]}},
    ],
    "stages": [{"id": "usage", "en": "Usage", "zh": "使用"}],
    "signals": [{"id": "churn_risk", "en": "Churn risk", "zh": "流失风险",
                 "seeds": {"en": ["never fly"], "zh": ["再也不坐"]}}],
}

_ROWS = [
    ("My flight was delayed three hours", {"delay": "negative"}, "negative"),
    ("delayed again, missed my connection", {"delay": "negative"}, "negative"),
    ("we left late and nobody told us why", {"delay": "negative"}, "negative"),
    ("two hours late, terrible", {"delay": "negative"}, "negative"),
    ("right on time today, great job", {"delay": "positive"}, "positive"),
    ("landed early, nice", {"delay": "positive"}, "positive"),
    ("they lost my bag in Denver", {"baggage": "negative"}, "negative"),
    ("my luggage never arrived", {"baggage": "negative"}, "negative"),
    ("bag came out broken and wet", {"baggage": "negative"}, "negative"),
    ("luggage was first off the belt, love it", {"baggage": "positive"}, "positive"),
    ("the crew were so kind to my kids", {"crew": "positive"}, "positive"),
    ("flight attendant was rude to me", {"crew": "negative"}, "negative"),
    ("the attendant ignored my call button", {"crew": "negative"}, "negative"),
    ("lovely crew and a smooth ride", {"crew": "positive"}, "positive"),
    ("crew was great but the bag was lost", {"crew": "positive", "baggage": "negative"}, "negative"),
    ("delayed flight and rude crew", {"delay": "negative", "crew": "negative"}, "negative"),
    ("just booked a ticket for May", {}, "neutral"),
    ("what time does boarding start", {}, "neutral"),
    ("is there wifi on this route", {}, "neutral"),
    ("thanks for the quick reply", {}, "positive"),
    ("航班延误了三个小时", {"delay": "negative"}, "negative"),
    ("又晚点了，太差了", {"delay": "negative"}, "negative"),
    ("准时起飞，很满意", {"delay": "positive"}, "positive"),
    ("行李丢了，没人管", {"baggage": "negative"}, "negative"),
    ("行李箱摔坏了", {"baggage": "negative"}, "negative"),
    ("行李很快就到了", {"baggage": "positive"}, "positive"),
    ("空姐服务很贴心", {"crew": "positive"}, "positive"),
    ("乘务员态度很差", {"crew": "negative"}, "negative"),
    ("空姐很漂亮，服务也好", {"crew": "positive"}, "positive"),
    ("我订了下周的机票", {}, "neutral"),
    ("请问几点登机", {}, "neutral"),
    ("延误两小时，再也不坐这家了", {"delay": "negative"}, "negative"),
]
ROWS = [{"id": f"r{i}", "text": t, "aspects": [{"id": a, "polarity": p} for a, p in asp.items()], "sentiment": s}
        for i, (t, asp, s) in enumerate(_ROWS * 2)]  # twice: enough rows for a dev slice


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    tax = d / "taxonomy.yaml"
    tax.write_text(yaml.safe_dump(TAXONOMY, allow_unicode=True), encoding="utf-8")
    return {"dir": d, "taxonomy": tax, "data": write_jsonl(d / "rows.jsonl", ROWS)}


@pytest.fixture(scope="module")
def trained(files):
    out = files["dir"] / "model"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(files["data"]),
                 "--output", str(out), "--quiet"]) == 0
    return out


def test_trained_folder_is_self_describing_and_loads(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"config.json", "meta.json", "README.md", "touchpoints", "features", "lexicon"} <= names
    assert not list(trained.rglob("*.pkl")) and not list(trained.rglob("*.pickle"))
    meta = json.loads((trained / "meta.json").read_text(encoding="utf-8"))
    assert meta["labels"]["touchpoints"] == ["flight", "delay", "baggage", "crew"]
    assert len(meta["data"]["sha256"]) == 64 and meta["data"]["rows"] == len(ROWS)
    assert meta["train_config"]["seed"] == 0
    assert meta["training"]["polarity_head"] is True and meta["training"]["sentiment_source"] == "labelled"
    card = (trained / "README.md").read_text(encoding="utf-8")
    assert card.startswith(f"# {meta['name']} {meta['version']}\n") and meta["name"]
    assert "| baggage |" in card and "| crew |" in card  # every touchpoint of the taxonomy is listed
    assert "delay" in (trained / "README.md").read_text(encoding="utf-8")


def test_trained_model_serves_like_the_default(trained):
    nlp = voc.load(trained)
    text = "The flight was delayed 3 hours and the crew was rude"
    doc = nlp(text)
    rec = doc.to_dict()
    assert set(rec) == {"id", "language", "sentiment", "touchpoints", "themes", "stage", "signals", "error"}
    found = {t["id"]: t for t in rec["touchpoints"]}
    assert "delay" in found and found["delay"]["parent"] == "flight"
    assert found["delay"]["sentiment"]["label"] == "negative"
    for t in rec["touchpoints"]:
        for ev in t["evidence"]:
            assert text[ev["start"]:ev["end"]] == ev["text"]
    assert rec["sentiment"]["label"] == "negative"
    assert rec["stage"]["id"] == "usage"
    # the rule (regex) for crew fires as evidence too
    doc2 = nlp("The flight attendants were wonderful")
    assert "crew" in {t["id"] for t in doc2.touchpoints}
    assert [s["id"] for s in nlp("延误两小时，再也不坐了").signals] == ["churn_risk"]
    # batch, multiprocess and CLI paths all work on the custom model
    texts = ["行李丢了", "crew were lovely", ""]
    assert [d.to_dict() for d in nlp.pipe(texts)] == [d.to_dict() for d in nlp.pipe(texts, n_process=2)]


def test_training_is_deterministic(files, trained, tmp_path):
    out = tmp_path / "again"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(files["data"]),
                 "--output", str(out), "--quiet"]) == 0
    for rel in ("touchpoints/weights.npz", "touchpoints/polarity/weights.npz", "sentiment/weights.npz"):
        with np.load(trained / rel) as a, np.load(out / rel) as b:
            assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert (trained / "features/vocab.txt").read_bytes() == (out / "features/vocab.txt").read_bytes()
    assert (trained / "config.json").read_bytes() == (out / "config.json").read_bytes()


def test_seed_terms_alone_give_a_usable_model(files, tmp_path):
    out = tmp_path / "seeded"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--output", str(out), "--quiet"]) == 0
    nlp = voc.load(out)
    doc = nlp("They lost my luggage and the flight was late")
    assert {"baggage", "delay"} <= {t["id"] for t in doc.touchpoints}
    assert doc.sentiment["label"] == "negative"  # from the base model's sentiment head
    assert nlp.meta["training"]["supervision"] == "seed terms only"


def test_unlabelled_rows_are_weakly_supervised(files, tmp_path):
    rows = [{"text": r["text"]} for r in ROWS]
    data = write_jsonl(tmp_path / "unlabelled.jsonl", rows)
    tax = taxonomy_from_dict(TAXONOMY)
    nlp, report = train(tax, read_labelled(data, tax.ids("touchpoints")), TrainConfig())
    assert report["supervision"] == "weak" and report["sentiment_source"] == "base model"
    assert "baggage" in {t["id"] for t in nlp("my bag never arrived").touchpoints}


@pytest.mark.parametrize("rows, code, needle", [
    ([{"text": "ok", "aspects": ["wifi"]}], "E603", "line 1.aspects: unknown aspect id 'wifi'"),
    ([{"text": "ok"}, {"aspects": ["delay"]}], "E602", "line 2.text"),
    ([{"text": "  ", "aspects": []}], "E602", "line 1.text"),
    ([{"text": "ok", "aspects": [{"id": "delay", "polarity": "angry"}]}], "E604", "polarity 'angry'"),
    ([{"text": "ok", "sentiment": "meh"}], "E604", "line 1.sentiment"),
    ([{"text": "ok", "aspects": 5}], "E605", "line 1.aspects"),
])
def test_bad_rows_are_named_and_nothing_is_written(files, tmp_path, capsys, rows, code, needle):
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    out = tmp_path / "model"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(data), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert code in err and needle in err
    assert not out.exists()


def test_broken_json_line_and_skip_invalid(files, tmp_path, capsys):
    data = tmp_path / "mixed.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n{not json\n", encoding="utf-8")
    out = tmp_path / "model"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(data), "--output", str(out)]) == 2
    assert "E104" in capsys.readouterr().err and not out.exists()
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(data), "--output", str(out),
                 "--skip-invalid"]) == 0
    assert f"line {len(ROWS) + 1}" in capsys.readouterr().err
    assert voc.load(out).meta["data"]["rows_with_problems"] == 1


def test_empty_training_set(files, tmp_path, capsys):
    data = tmp_path / "empty.jsonl"
    data.write_text("", encoding="utf-8")
    out = tmp_path / "model"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(data), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "E606" in err and "no usable rows" in err
    assert not out.exists()


def test_bad_taxonomy_refuses_to_train(tmp_path, capsys):
    tax = tmp_path / "t.yaml"
    tax.write_text(yaml.safe_dump({"touchpoints": [{"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}]}))
    assert main(["train", "--taxonomy", str(tax), "--output", str(tmp_path / "m")]) == 2
    assert "E505" in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_existing_output_needs_force(files, trained, capsys):
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--output", str(trained), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err


def test_csv_rows(files, tmp_path):
    import csv

    path = tmp_path / "rows.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "aspects", "sentiment"])
        w.writerow(["a", "bag lost", "baggage:negative", "negative"])
        w.writerow(["b", "late and rude crew", "delay:neg; crew:-1", "negative"])
        w.writerow(["c", "nice", "", "positive"])
    ds = read_labelled(path, ["flight", "delay", "baggage", "crew"], {"delay": "flight"})
    assert not ds.problems
    assert ds.rows[1].aspects == {"delay": "negative", "flight": None, "crew": "negative"}
    assert ds.rows[2].has_aspects and ds.rows[2].aspects == {}


def test_eval_report_and_files(files, trained, tmp_path, capsys):
    prefix = tmp_path / "reports" / "mini"
    assert main(["eval", "--model", str(trained), "--data", str(files["data"]), "--output", str(prefix),
                 "--no-peers"]) == 0
    out = capsys.readouterr().out
    assert "## Aspect detection" in out and "## Aspect polarity" in out and "## Overall sentiment" in out
    rep = json.loads(Path(str(prefix) + ".json").read_text(encoding="utf-8"))
    assert Path(str(prefix) + ".md").read_text(encoding="utf-8").strip() == out.strip()
    assert set(rep["detection"]["per_label"]) == {"flight", "delay", "baggage", "crew"}
    assert rep["detection"]["micro_f1"] > 0.8  # its own training rows: a smoke check, not a benchmark
    assert rep["sentiment"]["confusion"]["labels"] == ["negative", "neutral", "positive"]
    assert sum(map(sum, rep["sentiment"]["confusion"]["matrix"])) == len(ROWS)
    assert 0 <= rep["calibration"]["sentiment_ece"] <= 1
    assert rep["throughput"]["texts_per_second"] > 0


def test_eval_with_peers(files, trained):
    pytest.importorskip("vaderSentiment")
    from voc.evaluate import evaluate

    tax = taxonomy_from_dict(TAXONOMY)
    rep = evaluate(voc.load(trained), read_labelled(files["data"], tax.ids("touchpoints"), tax.parents()))
    assert "vader" in rep["peers"]
    v = rep["peers"]["vader"]
    assert v["language"] == "en" and v["n"] > 0 and "accuracy" in v["sentiment"]
    assert "accuracy" in v["voc_sentiment_same_rows"]


def test_metrics_by_hand():
    assert prf(3, 1, 2) == {"precision": 0.75, "recall": 0.6, "f1": 0.6667, "support": 5, "predicted": 4}
    r = multilabel_report([{"a"}, {"a", "b"}, set()], [{"a"}, {"b"}, {"b"}], ["a", "b"])
    assert r["per_label"]["a"]["recall"] == 0.5 and r["per_label"]["b"]["precision"] == 0.5
    assert r["micro_f1"] == round(2 * 2 / (3 + 3), 4)
    assert confusion(["negative", "positive"], ["positive", "positive"]) == [[0, 0, 1], [0, 0, 0], [0, 0, 1]]
    assert expected_calibration_error([0.9, 0.9], [True, False]) == 0.4
    assert expected_calibration_error([1.0, 0.0], [True, False]) == 0.0
    assert expected_calibration_error([], []) is None


@pytest.fixture
def tiny(tmp_path):
    """A tiny random BERT folder (skips without torch and transformers)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from voc.backbone import build_tiny_model

    return build_tiny_model(tmp_path / "tiny")


def test_transformer_backbone_end_to_end(files, tiny, tmp_path):
    out = tmp_path / "with-backbone"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(files["data"]), "--output", str(out),
                 "--backbone", str(tiny), "--quiet"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    feats = next(c for c in cfg["components"] if c["name"] == "features")
    assert feats["backbone"]["spec"] == str(tiny.resolve()) and not feats["backbone"]["finetuned"]
    nlp = voc.load(out)  # the frozen backbone is loaded from where it was
    doc = nlp("my bag never arrived")
    assert doc.clauses[0].emb is not None and doc.clauses[0].emb.shape == (32,)
    assert nlp.get_pipe("touchpoints").head.coef_.shape[0] == len(nlp.get_pipe("features").vocab) + 32
    assert doc.to_dict()["touchpoints"] is not None
    # moved away: a clear error that names the backbone and says what to do
    import shutil

    shutil.move(str(tiny), str(tmp_path / "moved"))
    with pytest.raises(voc.ModelError) as e:
        voc.load(out)
    assert e.value.code == "E201" and "backbone.spec" in str(e.value)


def test_finetuned_backbone_is_saved_in_the_folder(files, tiny, tmp_path):
    out = tmp_path / "finetuned"
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--data", str(files["data"]), "--output", str(out),
                 "--backbone", str(tiny), "--finetune", "--epochs", "1", "--quiet"]) == 0
    assert list((out / "features" / "backbone").glob("*.safetensors"))
    nlp = voc.load(out)  # needs nothing outside the folder
    assert nlp("luggage lost").clauses[0].emb is not None


def test_trained_model_serves_over_http(trained, monkeypatch):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import get_settings

    monkeypatch.setenv("VOC_MODEL_PATH", str(trained))
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            assert client.get("/health").json()["model"] == "model"
            body = client.post("/v1/analyze", json={"text": "they lost my luggage"}).json()
            assert "baggage" in {t["id"] for t in body["touchpoints"]}
    finally:
        get_settings.cache_clear()


def test_eval_writes_its_report_by_default(files, trained, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["eval", "--model", str(trained), "--data", str(files["data"]), "--no-peers"]) == 0
    assert (tmp_path / "eval-model-rows.json").exists() and (tmp_path / "eval-model-rows.md").exists()


def test_info_on_a_trained_model(trained, capsys):
    assert main(["info", "--model", str(trained)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["taxonomy"] == "mini-airline" and info["training"]["supervision"] == "labelled"


def test_finetune_needs_a_backbone(files, tmp_path, capsys):
    assert main(["train", "--taxonomy", str(files["taxonomy"]), "--output", str(tmp_path / "m"), "--finetune"]) == 2
    assert "--backbone" in capsys.readouterr().err


def test_bootstrap_interval_brackets_the_figure_and_shrinks_with_more_texts():
    from voc.evaluate import bootstrap_ci

    def acc(items):
        return sum(items) / len(items)

    small = [1] * 8 + [0] * 2
    large = small * 30
    lo, hi = bootstrap_ci(small, acc)
    assert lo <= 0.8 <= hi and hi - lo > 0.2
    lo2, hi2 = bootstrap_ci(large, acc)
    assert lo2 <= 0.8 <= hi2 and hi2 - lo2 < hi - lo
    assert bootstrap_ci(small, acc) == [lo, hi]          # seeded: the card does not move between runs
    assert bootstrap_ci([], acc) is None


# ---------------------------------------------------------------------------- trainer pieces
def _sparse_rows(seed=0, n=80, d=400):
    from scipy.sparse import csr_matrix, hstack
    from scipy.sparse import random as sparse_random

    rng = np.random.default_rng(seed)
    X = sparse_random(n, 300, density=0.02, format="csr", random_state=seed, dtype=np.float32)
    X.data[:] = 1.0
    X = hstack([X, csr_matrix((n, d - 300), dtype=np.float32)], format="csr")  # columns no row touches
    y = (np.asarray(X[:, :40].sum(1)).ravel() + rng.random(n) > 1.0).astype(int)
    return X, y


def test_fit_head_on_touched_columns_matches_a_plain_fit():
    from voc.features import LinearHead
    from voc.trainer import fit_head

    X, y = _sparse_rows()
    Y = np.stack([y, 1 - y], 1)
    plain = LinearHead(["a", "b"], "sigmoid", C=4.0).fit(X, Y)
    fast = fit_head(LinearHead(["a", "b"], "sigmoid", C=4.0), X, Y)
    assert fast.coef_.shape == plain.coef_.shape == (X.shape[1], 2)
    assert not fast.coef_[300:].any()
    np.testing.assert_allclose(fast.decision_function(X), plain.decision_function(X), atol=0.02)


def test_fit_head_folds_a_prior_head_into_one_linear_head():
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    from voc.features import LinearHead
    from voc.trainer import fit_head

    X, y = _sparse_rows(1)
    y3 = np.where(y == 1, 2, np.where(np.asarray(X[:, 40:80].sum(1)).ravel() > 0, 0, 1))
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(350, 3)).astype(np.float32), np.array([0.1, -0.2, 0.3], np.float32)
    head = fit_head(LinearHead(["negative", "neutral", "positive"], "softmax", C=2.0), X, y3, prior=(W, b))
    assert head.coef_.shape == (X.shape[1], 3)
    # the folded head scores as a model over [features, the prior's decision values] does
    Xz = hstack([X, csr_matrix(np.asarray(X[:, :350] @ W) + b)], format="csr")
    ref = LogisticRegression(C=2.0, class_weight="balanced", max_iter=1000).fit(Xz, y3)
    np.testing.assert_allclose(head.predict_proba(X), ref.predict_proba(Xz), atol=0.02)


def test_cross_validation_folds_are_fixed_by_seed_and_skip_unlabelled_rows():
    from voc.labelled import Row
    from voc.trainer import _folds

    rows = [Row(line=i + 1, id=f"r{i}", text="x") for i in range(100)]
    labelled = np.arange(100) % 10 != 0
    f = _folds(rows, labelled, TrainConfig(cv_folds=5))
    assert (f[~labelled] == -1).all() and set(f[labelled].tolist()) == {0, 1, 2, 3, 4}
    assert np.array_equal(f, _folds(rows, labelled, TrainConfig(cv_folds=5)))
    assert not np.array_equal(f, _folds(rows, labelled, TrainConfig(cv_folds=5, seed=1)))
    single = _folds(rows, labelled, TrainConfig(cv_folds=1))  # one held-out slice of dev_fraction
    assert set(single.tolist()) <= {-1, 0} and 0 < (single == 0).sum() < 40
    assert (_folds(rows[:50], labelled[:50], TrainConfig()) == -1).all()  # too few rows to hold any out


def test_training_report_records_the_out_of_fold_choices(trained):
    meta = json.loads((trained / "meta.json").read_text(encoding="utf-8"))
    tr = meta["training"]
    assert tr["cv_folds"] == 5 and tr["dev_rows"] == len(ROWS)
    assert tr["aspect_C"] in meta["train_config"]["C_grid"]
    assert tr["polarity_C"] in meta["train_config"]["polarity_C_grid"]
    assert tr["polarity_class_weight"] in meta["train_config"]["polarity_class_weights"]
    assert tr["polarity_prior"] is True  # trained with the default base model
    assert 0 <= tr["dev_polarity"]["accuracy"] <= 1 and tr["dev_polarity"]["n"] > 0
    cfg = json.loads((trained / "config.json").read_text(encoding="utf-8"))
    touch = next(c for c in cfg["components"] if c["name"] == "touchpoints")
    nb, pb = tr["polarity_biases"]  # the chosen biases are the ones the served model applies
    assert touch["neutral_bias"]["default"] == nb and touch["positive_bias"]["default"] == pb
