"""Calibrate the sentiment stage of a trained model on development data (never the gold set).

    python -m training.calibrate [--model models/voc-default]

Tunes, by grid search, the text/clause blend and the peak-end weights (shared), then the
neutral and positive bias per language, to maximise mean 3-class macro-F1 over the sets
below. The biases are taken from the middle of the best plateau of the grid, not its single
best cell (:func:`plateau_argmax`): on dev sets this small the best cell moved with every
retrain, and the gold 3-class figures by 0.02-0.04 with it. Sets:
- ``data/dev/zh_sentiment.jsonl``: 460 hand-labelled Chinese texts (Weibo, shopping, delivery, hotels),
- ASAP dev sample: 100 long Dianping reviews (stars 4-5 positive, 3 neutral, 1-2 negative),
- SemEval-2016 restaurant train, whole reviews (label from the balance of opinion polarities),
- the SemEval-2016 restaurant dev slice, sentences with one polarity.
The chosen values are written into the model's config (and the run into meta.json).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from training import corpora
from training.evaluate import SENT, macro_f1, star_sentiment
import voc

REPO = Path(__file__).resolve().parents[1]


def dev_sets():
    from training.dev_sample import dev_rows

    rows = dev_rows()
    recs = corpora.lookup([(r["corpus"], r["id"]) for r in rows])
    zh = [(recs[(r["corpus"], str(r["id"]))].text, r["sentiment"]) for r in rows]
    asap = [(r.text, star_sentiment(r.meta["star"])) for r in corpora.read("asap_dev")]
    sem = []
    for r in corpora.read("semeval16_train_reviews"):
        pols = [o["polarity"] for o in r.meta["opinions"]]
        if not pols:
            continue
        bal = (pols.count("positive") - pols.count("negative")) / len(pols)
        sem.append((r.text, "positive" if bal >= 0.3 else ("negative" if bal <= -0.3 else "neutral")))
    from training.train_default import dev_key, is_dev

    sents = []
    for r in corpora.read("semeval16_train"):
        pols = {o["polarity"] for o in r.meta["opinions"]}
        if is_dev(r.corpus, dev_key(r)) and len(pols) == 1:
            sents.append((r.text, pols.pop()))
    return {"zh_dev": zh, "asap_dev": asap, "semeval_train_reviews": sem, "semeval_dev_sentences": sents}


def plateau_argmax(S: np.ndarray, tie: np.ndarray) -> tuple:
    """The grid cell whose 3x3 neighbourhood scores best on average (edges clipped).

    A bias grid scored on a few hundred dev texts is jagged: the single best cell is
    often a spike that the next retrain or another data set does not reproduce, and the
    gold 3-class figures moved by 0.02-0.04 with it. The middle of a good plateau carries
    over better. Ties go to the smaller bias (``tie``, higher is preferred)."""
    from scipy.ndimage import uniform_filter

    smooth = uniform_filter(S.astype(float), size=3, mode="nearest")
    order = np.lexsort((tie.ravel(), np.round(smooth.ravel(), 6)))
    return np.unravel_index(order[-1], S.shape)


def calibrate(nlp, sets):
    comp = nlp.get_pipe("sentiment")
    cached = {name: ([d for d in nlp.pipe([t for t, _ in rows])], [g for _, g in rows]) for name, rows in sets.items()}

    def score(params, biases, pos_biases=None):
        pos_biases = pos_biases or {}
        for k, v in params.items():
            setattr(comp, k, v)
        fs = {}
        for name, (docs, gold) in cached.items():
            pred = []
            for d in docs:
                p = comp.probabilities(d).copy()
                lang = "zh" if d.language in ("zh", "mixed") else "en"
                p[1] += biases.get(lang, 0.0)
                p[2] += pos_biases.get(lang, 0.0)
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
    biases, pos = {"zh": 0.0, "en": 0.0}, {"zh": 0.0, "en": 0.0}
    bs, pbs = np.round(np.arange(-0.3, 0.81, 0.05), 2), np.round(np.arange(-0.2, 0.41, 0.05), 2)
    for lang in ("zh", "en"):
        S = np.array([[score(params, dict(biases, **{lang: float(b)}), dict(pos, **{lang: float(pb)}))[0]
                       for pb in pbs] for b in bs])
        i, j = plateau_argmax(S, -np.abs(bs)[:, None] - np.abs(pbs)[None, :])
        biases, pos = dict(biases, **{lang: float(bs[i])}), dict(pos, **{lang: float(pbs[j])})
    s, fs = score(params, biases, pos)
    for k, v in params.items():
        setattr(comp, k, v)
    nb = {"default": biases["en"], "en": biases["en"], "zh": biases["zh"]}
    pb = {"default": pos["en"], "en": pos["en"], "zh": pos["zh"]}
    for name in ("sentiment", "themes"):
        nlp.get_pipe(name).neutral_bias = dict(nb)
        nlp.get_pipe(name).positive_bias = dict(pb)
    return {"params": params, "neutral_bias": nb, "positive_bias": pb, "dev_macro_f1": fs, "mean": round(s, 4),
            "dev_sizes": {k: len(v) for k, v in sets.items()}}


def touchpoint_dev():
    """(text, gold touchpoint set, covered labels) rows with real labels, never trained on."""
    from training.train_default import AIRLINE_MAP, BITEXT_MAP, asap_labels, dev_key, is_dev, semeval_labels

    rest = {"product", "service", "price", "store", "location"}
    rows = []
    for r in corpora.read("semeval16_train"):
        if is_dev(r.corpus, dev_key(r)) and not r.meta["out_of_scope"]:
            rows.append((r.text, semeval_labels(r.meta["opinions"])[0], rest))
    for r in corpora.read("asap_dev"):
        rows.append((r.text, asap_labels(r.meta["aspects"]), rest))
    for r in corpora.read("airline"):
        if is_dev(r.corpus, r.id) and r.meta["reason"] in AIRLINE_MAP:
            rows.append((r.text, {AIRLINE_MAP[r.meta["reason"]]}, {"customer_support", "digital"}))
    for r in corpora.read("bitext"):
        if is_dev(r.corpus, r.id) and r.meta["category"] in BITEXT_MAP:
            rows.append((r.text, {BITEXT_MAP[r.meta["category"]]}, {"digital", "billing", "delivery",
                                                                     "customer_support", "marketing"}))
    return rows


LEXICON_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 0.9)
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.025), 3)


def calibrate_touchpoints(nlp, rows):
    """Per-label lexicon weight and threshold maximising doc-level F1 on real-labelled dev rows
    (the middle of the best plateau of the grid, as for the sentiment biases)."""
    comp = nlp.get_pipe("touchpoints")
    labels = comp.head.labels
    docs = list(nlp.pipe([t for t, _, _ in rows]))
    res = {}
    for k, lab in enumerate(labels):
        idx = [i for i, (_, _, cov) in enumerate(rows) if lab in cov]
        if not idx or not any(lab in rows[i][1] for i in idx):
            continue
        gold = np.array([lab in rows[i][1] for i in idx])
        S = np.zeros((len(LEXICON_WEIGHTS), len(THRESHOLDS)))
        for a, lw in enumerate(LEXICON_WEIGHTS):
            smax = np.array([max((1 - (1 - c.user_q[k]) * (1 - lw * c.user_hit[k]) for c in docs[i].clauses),
                                 default=0.0) for i in idx])
            for b, th in enumerate(THRESHOLDS):
                pred = smax >= th
                tp = int((pred & gold).sum())
                S[a, b] = 2 * tp / (pred.sum() + gold.sum()) if pred.sum() + gold.sum() else 0.0
        # ties: the smaller lexicon weight, then the threshold nearest 0.5
        a, b = plateau_argmax(S, -np.asarray(LEXICON_WEIGHTS)[:, None] - np.abs(THRESHOLDS - 0.5)[None, :] / 10)
        lw, th = LEXICON_WEIGHTS[a], round(float(THRESHOLDS[b]), 3)
        res[lab] = {"f1": round(float(S[a, b]), 4), "lexicon_weight": lw, "threshold": th, "n": len(idx)}
        comp.lexicon_weights[lab] = lw
        comp.thresholds[lab] = th
    return res


def touchpoint_sentiment_dev():
    """(text, {touchpoint: polarity}) rows with real aspect polarities, never trained on:
    the ASAP dev sample (zh, review level) and the SemEval-2016 dev slice (en, sentences)."""
    from training.train_default import asap_polarities, dev_key, is_dev, semeval_polarities

    rows = [(r.text, asap_polarities(r.meta["aspects"])) for r in corpora.read("asap_dev")]
    rows += [(r.text, semeval_polarities(r.meta["opinions"])) for r in corpora.read("semeval16_train")
             if is_dev(r.corpus, dev_key(r)) and not r.meta["out_of_scope"]]
    return rows


def calibrate_touchpoint_sentiment(nlp, rows):
    """One neutral and one positive bias for the touchpoint sentiments, maximising
    touchpoint-level sentiment macro-F1 over the touchpoints the model finds in the dev rows
    of both languages together (per language, the few neutral pairs made the choice noise).
    Set apart from the text-level biases: a touchpoint's clauses are short and carry less."""
    comp = nlp.get_pipe("touchpoints")
    docs = list(nlp.pipe([t for t, _ in rows]))
    gold, probs = [], []
    for (_, g), (items, pol) in zip(rows, zip(*comp.found(docs, *comp._weights()))):
        for (lab, _, _), p in zip(items, pol):
            if lab in g:
                gold.append(g[lab])
                probs.append(p)
    if not gold:
        return {}
    P = np.stack(probs)
    bs, qs = np.round(np.arange(-0.2, 0.61, 0.1), 2), np.round(np.arange(-0.2, 0.41, 0.1), 2)
    S = np.array([[macro_f1(gold, [SENT[k] for k in (P + np.array([0.0, b, q])).argmax(1)], SENT) for q in qs]
                  for b in bs])
    i, j = plateau_argmax(S, -np.abs(bs)[:, None] - np.abs(qs)[None, :])
    f, b, q = round(float(S[i, j]), 6), float(bs[i]), float(qs[j])
    comp.neutral_bias = {"default": b}
    comp.positive_bias = {"default": q}
    return {"macro_f1": f, "neutral_bias": b, "positive_bias": q, "pairs": len(gold)}


def calibrate_all(nlp):
    """Touchpoints first (sentiment aggregation does not depend on them), then the text
    sentiment, then the touchpoint sentiments."""
    res = {"touchpoints": calibrate_touchpoints(nlp, touchpoint_dev())}
    res["sentiment"] = calibrate(nlp, dev_sets())
    res["touchpoint_sentiment"] = calibrate_touchpoint_sentiment(nlp, touchpoint_sentiment_dev())
    nlp.meta.setdefault("dev", {})["calibration"] = res
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description="Calibrate a model's sentiment stage on dev data.")
    ap.add_argument("--model", default=str(REPO / "models/voc-default"))
    args = ap.parse_args(argv)
    nlp = voc.load(args.model)
    res = calibrate_all(nlp)
    nlp.to_disk(args.model)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
