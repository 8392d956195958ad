"""Calibrate the sentiment stage of a trained model on development data (never the gold set).

    python -m training.calibrate [--model models/voc-default]

Tunes, by grid search, the text/clause blend and the peak-end weights (shared), then the
neutral bias per language, to maximise mean 3-class macro-F1 over:
- ``data/dev/zh_sentiment.jsonl``: 220 hand-labelled Chinese texts (Weibo, shopping, delivery),
- ASAP dev sample: 100 long Dianping reviews (stars 4-5 positive, 3 neutral, 1-2 negative),
- SemEval-2016 restaurant train, whole reviews (label from the balance of opinion polarities).
The chosen values are written into the model's config (and the run into meta.json).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from training import corpora
from training.evaluate import SENT, macro_f1
import voc

REPO = Path(__file__).resolve().parents[1]


def dev_sets():
    rows = [json.loads(x) for x in (REPO / "data/dev/zh_sentiment.jsonl").read_text(encoding="utf-8").splitlines()]
    recs = corpora.lookup([(r["corpus"], r["id"]) for r in rows])
    zh = [(recs[(r["corpus"], str(r["id"]))].text, r["sentiment"]) for r in rows]
    star = lambda s: "positive" if s >= 4 else ("neutral" if s == 3 else "negative")  # noqa: E731
    asap = [(r.text, star(r.meta["star"])) for r in corpora.read("asap_dev")]
    sem = []
    for r in corpora.read("semeval16_train_reviews"):
        pols = [o["polarity"] for o in r.meta["opinions"]]
        if not pols:
            continue
        bal = (pols.count("positive") - pols.count("negative")) / len(pols)
        sem.append((r.text, "positive" if bal >= 0.3 else ("negative" if bal <= -0.3 else "neutral")))
    return {"zh_dev": zh, "asap_dev": asap, "semeval_train_reviews": sem}


def calibrate(nlp, sets):
    comp = nlp.get_pipe("sentiment")
    cached = {name: ([d for d in nlp.pipe([t for t, _ in rows])], [g for _, g in rows]) for name, rows in sets.items()}

    def score(params, biases):
        for k, v in params.items():
            setattr(comp, k, v)
        fs = {}
        for name, (docs, gold) in cached.items():
            pred = []
            for d in docs:
                p = comp.probabilities(d).copy()
                p[1] += biases.get("zh" if d.language in ("zh", "mixed") else "en", 0.0)
                pred.append(SENT[int(p.argmax())])
            fs[name] = macro_f1(gold, pred, SENT)
        return float(np.mean(list(fs.values()))), fs

    grid = {"text_weight": [0.0, 0.25, 0.5, 0.75, 1.0], "peak_weight": [0.0, 1.0, 2.0], "end_weight": [0.0, 0.5, 1.0],
            "contrast_weight": [0.0, 0.5, 1.0]}
    best = None
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values))
        s, fs = score(params, {"zh": 0.0, "en": 0.0})
        if best is None or s > best[0]:
            best = (s, params, fs)
    params = best[1]
    biases = {"zh": 0.0, "en": 0.0}
    for lang in ("zh", "en"):
        cands = []
        for b in np.arange(-0.3, 0.81, 0.05):
            trial = dict(biases, **{lang: round(float(b), 2)})
            cands.append((score(params, trial)[0], -abs(b), trial))
        biases = max(cands)[2]
    s, fs = score(params, biases)
    for k, v in params.items():
        setattr(comp, k, v)
    nb = {"default": biases["en"], "en": biases["en"], "zh": biases["zh"]}
    comp.neutral_bias = nb
    nlp.get_pipe("touchpoints").neutral_bias = dict(nb)
    nlp.get_pipe("themes").neutral_bias = dict(nb)
    return {"params": params, "neutral_bias": nb, "dev_macro_f1": fs, "mean": round(s, 4),
            "dev_sizes": {k: len(v) for k, v in sets.items()}}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Calibrate a model's sentiment stage on dev data.")
    ap.add_argument("--model", default=str(REPO / "models/voc-default"))
    args = ap.parse_args(argv)
    nlp = voc.load(args.model)
    res = calibrate(nlp, dev_sets())
    nlp.meta.setdefault("dev", {})["calibration"] = res
    nlp.to_disk(args.model)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
