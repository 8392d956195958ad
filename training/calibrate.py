"""Calibrate a trained model on development data: the annotated corpus's dev share
(``training.splits``: never trained on, by text hash) and the Chinese sentiment dev set.

    python -m training.calibrate [--model models/voc-default]

In order: touchpoint thresholds and lexicon weights per label; the text sentiment's
clause/text blend, peak-end weights and per-language neutral and positive biases; the
touchpoint sentiments' biases; the themes' and signals' thresholds and lexicon weights. Every
search is in :mod:`voc.calibration` (the same one ``voc train`` uses); the chosen values go
into the model's config and the run into ``meta.json``.
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
from voc.calibration import biased_labels, tune_biases, tune_detection
from voc.components.touchpoints import touchpoint_score

REPO = Path(__file__).resolve().parents[1]


def dev_rows(source: str | None = None) -> list:
    """The annotated dev rows (dicts with ``text`` and labels), leaving out ``source``'s."""
    from training.splits import annotations

    return [d for d in annotations() if d["split"] == "dev" and d["source"] != source]


def dev_sets(rows) -> dict:
    """Sentiment dev sets: the annotated dev rows per language, and the Chinese dev set."""
    from training.dev_sample import dev_rows as zh_dev_rows

    zh = zh_dev_rows()
    recs = corpora.lookup([(r["corpus"], r["id"]) for r in zh])
    return {"annotated_zh": [(d["text"], d["sentiment"]) for d in rows if d["lang"] != "en"],
            "annotated_en": [(d["text"], d["sentiment"]) for d in rows if d["lang"] == "en"],
            "zh_dev": [(recs[(r["corpus"], str(r["id"]))].text, r["sentiment"]) for r in zh]}


def calibrate(nlp, sets):
    comp = nlp.get_pipe("sentiment")
    cached = {}
    for name, rows in sets.items():
        pairs = [(d, g) for d, (_, g) in zip(nlp.pipe([t for t, _ in rows]), rows) if d.clauses]
        cached[name] = ([d for d, _ in pairs], [g for _, g in pairs])

    probs: dict = {}

    def text_probs(params):
        key = tuple(sorted(params.items()))
        if key not in probs:
            for k, v in params.items():
                setattr(comp, k, v)
            probs[key] = {name: (np.stack([comp.probabilities(d) for d in docs]) if docs else np.zeros((0, 3)),
                                 np.array(["zh" if d.language in ("zh", "mixed") else "en" for d in docs]))
                          for name, (docs, _) in cached.items()}
        return probs[key]

    def score(params, biases, pos_biases=None):
        pos_biases = pos_biases or {}
        fs = {}
        for name, (P, langs) in text_probs(params).items():
            if not len(P):
                continue
            adj = P.copy()
            for lang in ("zh", "en"):
                adj[langs == lang, 1] += biases.get(lang, 0.0)
                adj[langs == lang, 2] += pos_biases.get(lang, 0.0)
            fs[name] = macro_f1(cached[name][1], [SENT[k] for k in adj.argmax(1)], SENT)
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
    for lang in ("zh", "en"):
        b, q, _ = tune_biases(lambda b, q: score(params, dict(biases, **{lang: b}), dict(pos, **{lang: q}))[0])
        biases, pos = dict(biases, **{lang: b}), dict(pos, **{lang: q})
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

        def score(lw, k=k, idx=idx):
            return np.array([max((touchpoint_score(c.tp_model[k], c.tp_lexicon[k], lw) for c in docs[i].clauses),
                                 default=0.0) for i in idx])

        lw, th, f = tune_detection(score, gold)
        res[lab] = {"f1": f, "lexicon_weight": lw, "threshold": th, "n": len(idx)}
        comp.lexicon_weights[lab] = lw
        comp.thresholds[lab] = th
    return res


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
    b, q, f = tune_biases(lambda b, q: macro_f1(gold, [SENT[k] for k in biased_labels(P, b, q)], SENT),
                          np.round(np.arange(-0.2, 0.61, 0.1), 2), np.round(np.arange(-0.2, 0.41, 0.1), 2))
    comp.neutral_bias = {"default": b}
    comp.positive_bias = {"default": q}
    return {"macro_f1": f, "neutral_bias": b, "positive_bias": q, "pairs": len(gold)}


SIGNAL_RULE_WEIGHTS = (0.5, 0.7, 0.9)


def calibrate_labels(comp, docs, gold_sets, weights=(0.0, 0.3, 0.5, 0.7, 0.9)) -> dict:
    """Per-label lexicon weight and threshold of a themes or signals stage (its ``scores``
    are the noisy-or of the head and the rules), maximising F1 on the dev documents.

    The signal rules are precise phrase patterns written for cases the annotated corpus
    rarely holds (a number moved to another carrier, a hotline under negation): the dev rows
    cannot judge them, so their weight is searched from :data:`SIGNAL_RULE_WEIGHTS` only
    (a prior, not a tuned-away zero)."""
    labels = comp.head.labels
    found = [comp.rule_signals(d) for d in docs] if hasattr(comp, "rule_signals") else None
    keep = [i for i, d in enumerate(docs) if d.whole is not None]
    sub = [docs[i] for i in keep]
    saved = dict(comp.lexicon_weights)
    res = {}
    cache = {}
    for lw in weights:
        comp.lexicon_weights = {lab: lw for lab in labels}
        cache[lw] = comp.scores(sub, [found[i] for i in keep]) if found is not None else comp.scores(sub)
    comp.lexicon_weights = saved
    for k, lab in enumerate(labels):
        gold = np.array([lab in gold_sets[i] for i in keep])
        if not gold.any():
            continue
        lw, th, f = tune_detection(lambda w, k=k: cache[w][:, k], gold, weights)
        comp.lexicon_weights[lab], comp.thresholds[lab] = lw, th
        res[lab] = {"f1": f, "lexicon_weight": lw, "threshold": th, "n": int(gold.sum())}
    return res


def signal_columns(d) -> set:
    sig = {s for s in d["signals"] if s != "recommend"}
    if "recommend" in d["signals"]:
        sig.add("recommend_negative" if d.get("recommend_polarity") == "negative" else "recommend")
    return sig


def calibrate_all(nlp, rows=None, source: str | None = None):
    """Touchpoints first (sentiment aggregation does not depend on them), then the text
    sentiment, the touchpoint sentiments, the themes and the signals; on ``rows`` (default:
    the annotated dev rows, without ``source``'s)."""
    rows = dev_rows(source) if rows is None else rows
    tp_rows = [(d["text"], set(d["touchpoints"]), set(nlp.get_pipe("touchpoints").head.labels)) for d in rows]
    res = {"touchpoints": calibrate_touchpoints(nlp, tp_rows)}
    res["sentiment"] = calibrate(nlp, dev_sets(rows))
    res["touchpoint_sentiment"] = calibrate_touchpoint_sentiment(
        nlp, [(d["text"], {t: v["polarity"] for t, v in d["touchpoints"].items()}) for d in rows])
    docs = list(nlp.pipe([d["text"] for d in rows]))
    for name, gold in (("themes", [set(d["themes"]) for d in rows]), ("signals", [signal_columns(d) for d in rows])):
        comp = nlp.get_pipe(name)
        if getattr(comp, "head", None) is not None:
            res[name] = calibrate_labels(comp, docs, gold, SIGNAL_RULE_WEIGHTS if name == "signals"
                                         else (0.0, 0.3, 0.5, 0.7, 0.9))
    res["dev_rows"] = len(rows)
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
