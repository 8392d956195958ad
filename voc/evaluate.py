"""``voc eval``: score a model on labelled rows, side by side with the peer tools.

The report (a dict, written as JSON, and rendered as Markdown tables) holds:

* **detection** — per-aspect precision/recall/F1 and micro/macro averages;
* **polarity** — for every gold aspect with a polarity, the model's polarity for it (SemEval's
  category-polarity setting: when the model missed the aspect, its polarity is read from
  the clause that scores highest for that aspect); accuracy, macro-F1 and per-aspect accuracy;
* **sentiment** — overall accuracy, macro-F1, per-class P/R/F1 and the confusion matrix;
* **calibration** — expected calibration error (10 equal-width bins) of the overall sentiment
  confidence and of the touchpoint confidences;
* **throughput** — texts per second through ``nlp.pipe`` (one process);
* **peers** — the same sentiment and polarity measures for SnowNLP/cnsenti (Chinese rows) and
  VADER/TextBlob (English rows) when installed, with their throughput.
"""

from __future__ import annotations

import json
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from .document import sentiment_record
from .labelled import Dataset

SENT = ("negative", "neutral", "positive")


# ---------------------------------------------------------------------------- metrics
def prf(tp, fp, fn) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn,
            "predicted": tp + fp}


def macro_f1(y_true, y_pred, labels) -> float:
    fs = []
    for lab in labels:
        tp = sum(1 for a, b in zip(y_true, y_pred) if a == lab and b == lab)
        fp = sum(1 for a, b in zip(y_true, y_pred) if a != lab and b == lab)
        fn = sum(1 for a, b in zip(y_true, y_pred) if a == lab and b != lab)
        if tp + fn:
            fs.append(prf(tp, fp, fn)["f1"])
    return round(float(np.mean(fs)), 4) if fs else 0.0


def accuracy(y_true, y_pred) -> float:
    return round(float(np.mean([a == b for a, b in zip(y_true, y_pred)])), 4) if len(y_true) else 0.0


def multilabel_report(gold_sets, pred_sets, labels) -> dict:
    per = {}
    TP = FP = FN = 0
    for lab in labels:
        tp = sum(1 for g, p in zip(gold_sets, pred_sets) if lab in g and lab in p)
        fp = sum(1 for g, p in zip(gold_sets, pred_sets) if lab not in g and lab in p)
        fn = sum(1 for g, p in zip(gold_sets, pred_sets) if lab in g and lab not in p)
        per[lab] = prf(tp, fp, fn)
        TP, FP, FN = TP + tp, FP + fp, FN + fn
    present = [v["f1"] for v in per.values() if v["support"]]
    micro = prf(TP, FP, FN)
    return {"macro_f1": round(float(np.mean(present)), 4) if present else 0.0, "micro_f1": micro["f1"],
            "micro_precision": micro["precision"], "micro_recall": micro["recall"], "per_label": per}


def bootstrap_ci(items: Sequence, stat, n: int = 1000, seed: int = 0, level: float = 0.95) -> Optional[list]:
    """A percentile bootstrap interval for ``stat(items)``: ``n`` resamples of the items (texts,
    with replacement), the middle ``level`` of the resampled statistics. On 100 texts a 3-class
    macro-F1 is only known to about ±0.1; the interval says so next to the figure."""
    if not len(items):
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(items), size=(n, len(items)))
    vals = np.array([stat([items[i] for i in row]) for row in idx], dtype=float)
    lo, hi = np.nanpercentile(vals, [50 * (1 - level), 50 * (1 + level)])
    return [round(float(lo), 4), round(float(hi), 4)]


def confusion(y_true, y_pred, labels=SENT) -> List[List[int]]:
    """Rows: gold label; columns: predicted label (both in ``labels`` order)."""
    idx = {lab: i for i, lab in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for a, b in zip(y_true, y_pred):
        if a in idx and b in idx:
            m[idx[a]][idx[b]] += 1
    return m


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> Optional[float]:
    """ECE: the gap between confidence and accuracy, averaged over equal-width bins by size."""
    if not len(confidences):
        return None
    c = np.clip(np.asarray(confidences, dtype=float), 0, 1)
    ok = np.asarray(correct, dtype=float)
    b = np.minimum((c * bins).astype(int), bins - 1)
    ece = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            ece += m.mean() * abs(c[m].mean() - ok[m].mean())
    return round(float(ece), 4)


def sentiment_block(gold, pred) -> dict:
    per = {}
    for lab in SENT:
        tp = sum(1 for a, b in zip(gold, pred) if a == lab and b == lab)
        fp = sum(1 for a, b in zip(gold, pred) if a != lab and b == lab)
        fn = sum(1 for a, b in zip(gold, pred) if a == lab and b != lab)
        per[lab] = prf(tp, fp, fn)
    binary = [(a, b) for a, b in zip(gold, pred) if a != "neutral"]
    return {"n": len(gold), "accuracy": accuracy(gold, pred), "macro_f1": macro_f1(gold, pred, SENT),
            "binary_accuracy_non_neutral": accuracy([a for a, _ in binary], [b for _, b in binary]),
            "per_class": per, "confusion": {"labels": list(SENT), "matrix": confusion(gold, pred)}}


# ---------------------------------------------------------------------------- evaluation
def evaluate(nlp, data: Dataset, peers: bool = True, batch_size: int = 256) -> dict:
    """Score ``nlp`` on labelled rows (see the module docstring for what is measured)."""
    rows = data.rows
    aspects = nlp.get_pipe("touchpoints").head.labels
    nlp.warm()  # jieba and OpenCC load lazily; keep that out of the throughput
    t = time.perf_counter()
    docs = list(nlp.pipe([r.text for r in rows], batch_size=batch_size))
    seconds = time.perf_counter() - t
    report: dict = {"model": nlp.meta.get("name"), "model_version": nlp.meta.get("version"),
                    "data": {"file": data.path.rsplit("/", 1)[-1], "sha256": data.sha256, "rows": len(rows),
                             "rows_with_problems": len(data.problems)},
                    "throughput": {"texts_per_second": round(len(rows) / max(seconds, 1e-9), 1),
                                   "seconds": round(seconds, 2), "n_process": 1}}
    labelled = [(r, d) for r, d in zip(rows, docs) if r.has_aspects]
    if labelled:
        report["detection"] = multilabel_report([set(r.aspects) for r, _ in labelled],
                                                [{t["id"] for t in d.touchpoints} for _, d in labelled], aspects)
        report["detection"]["n"] = len(labelled)
        conf, ok = [], []
        for r, d in labelled:
            for tp in d.touchpoints:
                conf.append(tp["confidence"])
                ok.append(tp["id"] in r.aspects)
        report.setdefault("calibration", {})["touchpoint_ece"] = expected_calibration_error(conf, ok)
    pol = _polarity_pairs(nlp, rows, docs)
    if pol:
        g = [p[2] for p in pol]
        m = [p[3] for p in pol]
        per_aspect = {}
        for a in aspects:
            items = [(x, y) for (_, aa, x, y, _) in pol if aa == a]
            if items:
                g_, m_ = [x for x, _ in items], [y for _, y in items]
                per_aspect[a] = {"accuracy": accuracy(g_, m_), "macro_f1": macro_f1(g_, m_, SENT), "n": len(items)}
        report["polarity"] = {"n": len(pol), "accuracy": accuracy(g, m), "macro_f1": macro_f1(g, m, SENT),
                              "detected_share": round(float(np.mean([p[4] for p in pol])), 4),
                              "per_aspect": per_aspect, "confusion": {"labels": list(SENT),
                                                                      "matrix": confusion(g, m)}}
    sent = [(r, d) for r, d in zip(rows, docs) if r.sentiment and d.sentiment]
    if sent:
        gold = [r.sentiment for r, _ in sent]
        pred = [d.sentiment["label"] for _, d in sent]
        report["sentiment"] = sentiment_block(gold, pred)
        report.setdefault("calibration", {})["sentiment_ece"] = expected_calibration_error(
            [d.sentiment["confidence"] for _, d in sent], [a == b for a, b in zip(gold, pred)])
    if peers:
        report["peers"] = evaluate_peers(rows, docs, pol)
    return report


def _polarity_pairs(nlp, rows, docs):
    """``(row index, aspect, gold polarity, model polarity, detected?)`` for every gold aspect polarity."""
    tc = nlp.get_pipe("touchpoints")
    out = []
    for i, (r, d) in enumerate(zip(rows, docs)):
        if d.error is not None and not d.clauses:
            continue
        found = {t["id"]: t["sentiment"]["label"] for t in d.touchpoints}
        for a, p in r.aspects.items():
            if not p:
                continue
            if a in found:
                out.append((i, a, p, found[a], True))
            elif d.clauses and d.clauses[0].tp_model is not None:
                k = tc.head.labels.index(a)
                best = max(d.clauses, key=lambda c: c.tp_model[k])
                probs = tc.polarities([d], [[(a, 0.0, [best])]])[0][0]
                rec = sentiment_record(probs, *_biases(tc, d.language))
                out.append((i, a, p, rec["label"], False))
    return out


def _biases(tc, language):
    from .components import language_bias

    return language_bias(tc.neutral_bias, language), language_bias(tc.positive_bias, language)


def evaluate_peers(rows, docs, pol) -> dict:
    """Peer sentiment on the rows of their language: overall sentiment and, for gold aspect
    polarities, the text's sentiment taken as every aspect's polarity."""
    from .peers import PEER_LANGUAGES, available_peers, missing_peers

    langs = {"zh" if d.language in ("zh", "mixed") else "en" if d.language == "en" else None for d in docs}
    langs.discard(None)
    found = available_peers(tuple(langs))
    out: Dict[str, dict] = {"not_installed": missing_peers(found, tuple(langs))}
    for name, run in found.items():
        lang = PEER_LANGUAGES[name]
        idx = [i for i, d in enumerate(docs) if ("zh" if d.language in ("zh", "mixed") else d.language) == lang]
        if not idx:
            continue
        t = time.perf_counter()
        labels = {}
        for i in idx:
            try:
                labels[i] = run(rows[i].text)[0]
            except Exception:  # noqa: BLE001 - a peer crashing on a text counts as a miss, not a voc error
                labels[i] = None
        secs = time.perf_counter() - t
        res: dict = {"language": lang, "n": len(idx), "texts_per_second": round(len(idx) / max(secs, 1e-9), 1)}
        s_idx = [i for i in idx if rows[i].sentiment]
        if s_idx:
            res["sentiment"] = sentiment_block([rows[i].sentiment for i in s_idx], [labels[i] for i in s_idx])
            # voc on exactly the same rows, for a fair side-by-side
            res["voc_sentiment_same_rows"] = sentiment_block([rows[i].sentiment for i in s_idx],
                                                             [docs[i].sentiment["label"] for i in s_idx])
        p_items = [(p[2], labels[p[0]]) for p in pol if p[0] in labels]
        if p_items:
            g = [a for a, _ in p_items]
            m = [b for _, b in p_items]
            res["polarity"] = {"n": len(p_items), "accuracy": accuracy(g, m), "macro_f1": macro_f1(g, m, SENT)}
            vm = [p[3] for p in pol if p[0] in labels]
            res["voc_polarity_same_rows"] = {"accuracy": accuracy(g, vm), "macro_f1": macro_f1(g, vm, SENT)}
        out[name] = res
    return out


# ---------------------------------------------------------------------------- rendering
def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _measures(v: dict) -> str:
    """``name value`` pairs of one external-like set: scores to three places, counts whole."""
    return ", ".join(f"{k} {int(x)}" if k.endswith("_pairs") else f"{k} {_f(x)}" for k, x in v.items() if k != "n")


def render_markdown(report: dict) -> str:
    """The report as readable Markdown tables (what ``voc eval`` prints)."""
    L = [f"# voc eval: {report.get('model')} {report.get('model_version') or ''} on {report['data']['file']}", "",
         f"{report['data']['rows']} rows ({report['data']['rows_with_problems']} skipped with problems); "
         f"{report['throughput']['texts_per_second']:,} texts/s (1 process).", ""]
    det = report.get("detection")
    if det:
        L += [f"## Aspect detection (n={det['n']})", "",
              f"micro-F1 **{_f(det['micro_f1'])}** (P {_f(det['micro_precision'])}, R {_f(det['micro_recall'])}), "
              f"macro-F1 **{_f(det['macro_f1'])}**", "",
              *_prf_table("aspect", det["per_label"]), ""]
    pol = report.get("polarity")
    if pol:
        L += [f"## Aspect polarity (n={pol['n']} gold aspect mentions; {pol['detected_share']:.0%} were detected)", "",
              f"accuracy **{_f(pol['accuracy'])}**, macro-F1 **{_f(pol['macro_f1'])}**", "",
              "| aspect | accuracy | macro-F1 | n |", "|---|---|---|---|"]
        L += [f"| {a} | {_f(v['accuracy'])} | {_f(v.get('macro_f1'))} | {v['n']} |" for a, v in pol["per_aspect"].items()]
        L += ["", _confusion_md(pol["confusion"]), ""]
    s = report.get("sentiment")
    if s:
        L += [f"## Overall sentiment (n={s['n']})", "",
              f"accuracy **{_f(s['accuracy'])}**, macro-F1 **{_f(s['macro_f1'])}**, binary accuracy on non-neutral "
              f"rows {_f(s['binary_accuracy_non_neutral'])}", "",
              *_prf_table("class", s["per_class"]), "", _confusion_md(s["confusion"]), ""]
    cal = report.get("calibration")
    if cal:
        L += ["## Calibration (expected calibration error, 10 bins; lower is better)", ""]
        L += [f"- {k.replace('_', ' ')}: {_f(v)}" for k, v in cal.items()]
        L.append("")
    peers = report.get("peers")
    if peers:
        names = [k for k in peers if k != "not_installed"]
        if names:
            L += ["## Side by side with peers (each on the rows of its language)", "",
                  "| system | lang | n | sentiment acc | sentiment macro-F1 | polarity acc | polarity macro-F1 | texts/s |",
                  "|---|---|---|---|---|---|---|---|"]
            for lang in ("zh", "en"):
                group = [n for n in names if peers[n]["language"] == lang]
                if not group:
                    continue
                r0 = peers[group[0]]
                L.append(_peer_row(f"**voc** ({report.get('model')})", lang, r0["n"],
                                   r0.get("voc_sentiment_same_rows"), r0.get("voc_polarity_same_rows"),
                                   report["throughput"]["texts_per_second"]))
                for n in group:
                    r = peers[n]
                    L.append(_peer_row(n, lang, r["n"], r.get("sentiment"), r.get("polarity"), r["texts_per_second"]))
            L.append("")
        if peers.get("not_installed"):
            L += [f"Not installed, so not compared: {', '.join(peers['not_installed'])} "
                  "(`pip install snownlp cnsenti vaderSentiment textblob`).", ""]
    return "\n".join(L)


def _peer_row(system, lang, n, sent, pol, speed) -> str:
    sent, pol = sent or {}, pol or {}
    return (f"| {system} | {lang} | {n} | {_f(sent.get('accuracy'))} | {_f(sent.get('macro_f1'))} | "
            f"{_f(pol.get('accuracy'))} | {_f(pol.get('macro_f1'))} | {speed:,} |")


def _prf_table(what: str, per: dict) -> List[str]:
    def row(k, v):
        if not v["support"] and not v.get("predicted"):
            return f"| {k} | - | - | - | 0 |"  # neither in the data nor predicted: nothing to score
        return f"| {k} | {_f(v['precision'])} | {_f(v['recall'])} | {_f(v['f1'])} | {v['support']} |"

    return [f"| {what} | precision | recall | F1 | support |", "|---|---|---|---|---|"] + [row(k, v) for k, v in per.items()]


def _confusion_md(c: dict) -> str:
    labs = c["labels"]
    rows = ["| gold \\ predicted | " + " | ".join(labs) + " |", "|---" * (len(labs) + 1) + "|"]
    rows += [f"| {labs[i]} | " + " | ".join(str(x) for x in row) + " |" for i, row in enumerate(c["matrix"])]
    return "\n".join(rows)


def model_card(meta: dict) -> str:
    """A model folder's README.md, generated from its meta.json: the one model card, for
    models trained by ``voc train`` and for the shipped default (``training/``). Each section
    appears when meta.json holds what it shows."""
    L = [f"# {meta.get('name')} {meta.get('version')}", ""]
    if meta.get("description"):
        L += [meta["description"], ""]
    L += [f"Generated from `meta.json` by `{meta.get('card_by', 'voc train')}`; do not edit by hand.", ""]
    L += _card_taxonomy(meta) + _card_training(meta) + _card_loso(meta) + _card_gold(meta) + _card_calibration(meta)
    ev = {k: v for k, v in meta.get("metrics", {}).items() if k not in ("gold", "agreement", "proxies_in_source")}
    for name, rep in ev.items():
        L += [f"## Evaluation: {name}", "", render_markdown(rep).split("\n", 2)[2], ""]
    if not ev and "train_config" in meta:
        L += ["## Evaluation", "", "No evaluation data was given (`voc train --eval-data`); run `voc eval`.", ""]
    for title, key in (("Data and licences", "licences"), ("Limits", "limits")):
        if meta.get(key):
            L += [f"## {title}", ""] + [f"- {x}" for x in meta[key]] + [""]
    return "\n".join(L)


def _card_taxonomy(meta) -> List[str]:
    tax = meta.get("taxonomy", {})
    if not tax.get("touchpoints"):
        return []
    L = ["## Taxonomy", "", "| touchpoint | zh | en | parent | description |", "|---|---|---|---|---|"]
    L += [f"| {t['id']} | {t.get('zh', '')} | {t.get('en', '')} | {t.get('parent', '')} | {t.get('description', '')} |"
          for t in tax["touchpoints"]]
    return L + [""]


def _card_training(meta) -> List[str]:
    tr, data = meta.get("training", {}), meta.get("data", {})
    L = ["## How it was trained", ""]
    if "train_config" in meta:  # voc train
        L += [f"- Data: `{data.get('file')}` ({data.get('rows', 0)} rows, sha256 `{data.get('sha256', '-')}`); "
              f"{data.get('rows_with_problems', 0)} rows skipped with problems.",
              f"- Supervision for touchpoints: {tr.get('supervision')}; overall sentiment: "
              f"{tr.get('sentiment_source')}; aspect polarity head: {'yes' if tr.get('polarity_head') else 'no'}.",
              f"- Backbone: {json.dumps(meta.get('backbone')) if meta.get('backbone') else 'none (classical features)'}.",
              f"- Config: `{json.dumps(meta.get('train_config', {}), ensure_ascii=False)}`.",
              f"- {tr.get('features', 0):,} features; {tr.get('dev_rows', 0)} rows scored out of fold to tune "
              f"per-aspect thresholds; trained in {tr.get('train_seconds')} s.",
              f"- Libraries: `{json.dumps(meta.get('requirements', {}))}`; created {meta.get('created_at', '-')}.", ""]
        counts = data.get("label_counts") or {}
        if counts:
            dev = tr.get("dev_detection_f1") or {}
            L += ["| touchpoint | training rows | threshold | lexicon weight | dev F1 (tuning slice, optimistic) |",
                  "|---|---|---|---|---|"]
            L += [f"| {t['id']} | {counts.get(t['id'], 0)} | {tr.get('thresholds', {}).get(t['id'], '-')} | "
                  f"{tr.get('lexicon_weights', {}).get(t['id'], '-')} | {_f(dev.get(t['id']))} |"
                  for t in meta.get("taxonomy", {}).get("touchpoints", [])]
            L.append("")
        return L
    if tr.get("script"):
        L.append(f"- Script: `{tr['script']}` (args `{json.dumps(tr.get('args', {}))}`), {tr.get('seconds')} s "
                 f"on the reference machine; created {meta.get('created_at')} with "
                 f"`{json.dumps(meta.get('library_versions', {}))}`.")
    L += [f"- {x}" for x in meta.get("how", [])]
    if tr.get("sentiment_units"):
        L.append(f"- Sentiment units by source: `{json.dumps(tr['sentiment_units'])}`; touchpoint units "
                 f"{tr.get('touchpoint_units')}, touchpoint-polarity units {tr.get('polarity_units')}, annotated "
                 f"texts for themes, signals and stage {tr.get('annotated_texts')}; {tr.get('features', 0):,} features.")
    if tr.get("heldout_hashes"):
        L.append(f"- Held out of all training by normalized-text hash: `{json.dumps(tr['heldout_hashes'])}`.")
    return L + [""]


LOSO_COLUMNS = (("sentiment macro-F1", ("sentiment", "macro_f1")), ("sentiment acc", ("sentiment", "accuracy")),
                ("touchpoints F1", ("touchpoints", "micro_f1")), ("touchpoint+polarity F1", ("touchpoint_polarity", "micro_f1")),
                ("touchpoint sentiment acc where found", ("touchpoint_sentiment_where_detected", "accuracy")),
                ("themes F1", ("themes", "micro_f1")), ("signals F1", ("signals", "micro_f1")),
                ("stage acc", ("stage", "accuracy")))


def _dig(d, path):
    for k in path:
        d = (d or {}).get(k)
    return d


def _card_loso(meta) -> List[str]:
    loso = meta.get("loso")
    if not loso:
        return []
    L = ["## Leave-one-source-out (the figures that count)", "",
         "Each row: a model trained with that source held out entirely (its corpora, and its texts by hash "
         "wherever else they occur), calibrated on the other sources' dev share, scored on the held-out source's "
         "annotated texts (the 85% not used to choose settings). Micro-F1 over labels.", "",
         "| held-out source | n | " + " | ".join(c for c, _ in LOSO_COLUMNS) + " |",
         "|---|---|" + "---|" * len(LOSO_COLUMNS)]
    for src, r in sorted(loso.get("by_source", {}).items()):
        a = r["annotated"]
        L.append(f"| {src} | {a['n']} | " + " | ".join(_f(_dig(a, path)) for _, path in LOSO_COLUMNS) + " |")
    pooled = loso.get("pooled")
    if pooled:
        L.append(f"| **all, pooled** | {pooled['n']} | " + " | ".join(_f(_dig(pooled, path)) for _, path in LOSO_COLUMNS)
                 + " |")
    prox = [(src, name, v) for src, r in sorted(loso.get("by_source", {}).items())
            for name, v in r.get("proxies", {}).items()]
    if prox:
        L += ["", "External-like sets, scored by the model that held their source out:", "",
              "| set | held-out source | n | measures |", "|---|---|---|---|"]
        for src, name, v in prox:
            L.append(f"| {name} | {src} | {v.get('n')} | {_measures(v)} |")
    return L + [""]


def _card_gold(meta) -> List[str]:
    g = meta.get("metrics", {}).get("gold")
    if not g:
        return []
    L = ["## Hand-labelled gold set (`data/gold`; no model trains on these texts)", "",
         "From the same sources the model trains on (other texts): an in-domain check, not a held-out-source one.", "",
         "| slice | n | " + " | ".join(c for c, _ in LOSO_COLUMNS) + " | repurchase vs churn |",
         "|---|---|" + "---|" * (len(LOSO_COLUMNS) + 1)]
    for name in ["all", "lang:zh", "lang:en"] + sorted(k for k in g if not k.startswith(("all", "lang"))):
        r = g[name]
        rc = r.get("repurchase_vs_churn", {})
        L.append(f"| {name} | {r['n']} | " + " | ".join(_f(_dig(r, path)) for _, path in LOSO_COLUMNS)
                 + f" | {_f(rc.get('accuracy'))} (n={rc.get('n', 0)}) |")
    ins = meta.get("metrics", {}).get("proxies_in_source")
    if ins:
        L += ["", "The external-like sets again, scored by this model (their sources were in training, these texts "
              "were not):", "", "| set | n | measures |", "|---|---|---|"]
        for name, v in ins.items():
            L.append(f"| {name} | {v.get('n')} | {_measures(v)} |")
    a = meta.get("metrics", {}).get("agreement")
    if a:
        L += ["", "How far two human labellings agree (the gold labels against the corpus's own on the same texts):", "",
              "| gold texts | touchpoint-sentiment macro-F1 / accuracy (pairs) | overall vs stars, macro-F1 / accuracy |",
              "|---|---|---|"]
        for corpus, v in a.items():
            stars = (f"{_f(v['overall_vs_stars_macro_f1'])} / {_f(v['overall_vs_stars_accuracy'])} ({v['texts']} texts)"
                     if "overall_vs_stars_macro_f1" in v else "-")
            L.append(f"| {corpus} | {_f(v['touchpoint_sentiment_macro_f1'])} / {_f(v['touchpoint_sentiment_accuracy'])} "
                     f"({v['pairs']}) | {stars} |")
    return L + [""]


def _card_calibration(meta) -> List[str]:
    cal = meta.get("dev", {}).get("calibration")
    if not cal:
        return []
    L = ["## Calibration (on the annotated corpus's dev share; never trained on)", ""]
    s = cal.get("sentiment")
    if s:
        L.append(f"- Text sentiment: `{json.dumps(s['params'])}`, neutral bias `{json.dumps(s['neutral_bias'])}`, "
                 f"positive bias `{json.dumps(s.get('positive_bias', {}))}`; dev macro-F1 "
                 f"`{json.dumps(s['dev_macro_f1'])}` (sizes `{json.dumps(s['dev_sizes'])}`).")
    for name in ("touchpoints", "themes", "signals"):
        if cal.get(name):
            L.append(f"- {name.capitalize()}, per label (dev F1 / lexicon weight / threshold): "
                     + ", ".join(f"{k} {v['f1']:.3f}/{v['lexicon_weight']}/{v['threshold']}"
                                 for k, v in cal[name].items()) + ".")
    ts = cal.get("touchpoint_sentiment")
    if ts:
        L.append(f"- Touchpoint sentiment: neutral bias {ts.get('neutral_bias')}, positive bias "
                 f"{ts.get('positive_bias')} (dev macro-F1 {_f(ts.get('macro_f1'))} over {ts.get('pairs')} pairs).")
    return L + [""]


# ---------------------------------------------------------------------------- full records
def _set_f1(gold_sets, pred_sets) -> dict:
    tp = sum(len(g & p) for g, p in zip(gold_sets, pred_sets))
    n_p, n_g = sum(len(p) for p in pred_sets), sum(len(g) for g in gold_sets)
    return {"micro_f1": round(2 * tp / (n_p + n_g), 4) if n_p + n_g else None, "gold": n_g, "predicted": n_p}


def record_signals(d) -> set:
    """A document's signals, ``recommend`` split by polarity (``recommend_negative``)."""
    out = set()
    for s in d.signals:
        out.add("recommend_negative" if s["id"] == "recommend" and s.get("polarity") == "negative" else s["id"])
    return out


def evaluate_records(golds: Sequence[dict], docs: Sequence) -> dict:
    """Every label family of the default taxonomy against full gold records (the annotated
    corpus's form: ``sentiment``, ``touchpoints`` {id: {"polarity"}}, ``themes``, ``signals``,
    ``recommend_polarity``, ``stage``): the one scoring used for annotated, gold and
    leave-one-source-out figures."""
    out: dict = {"n": len(golds)}
    gs = [g["sentiment"] for g in golds]
    ps = [d.sentiment["label"] if d.sentiment else "neutral" for d in docs]
    out["sentiment"] = {"accuracy": accuracy(gs, ps), "macro_f1": macro_f1(gs, ps, SENT)}
    bin_ = [(a, b) for a, b in zip(gs, ps) if a != "neutral"]
    out["sentiment"]["negative_vs_rest_accuracy"] = accuracy([a == "negative" for a in gs],
                                                             [b == "negative" for b in ps])
    out["sentiment"]["binary_accuracy_non_neutral"] = accuracy(
        [a for a, _ in bin_], ["positive" if d.sentiment and d.sentiment["score"] >= 0 else "negative"
                               for (a, _), d in zip(bin_, [d for g, d in zip(gs, docs) if g != "neutral"])])
    labels = sorted({t for g in golds for t in g["touchpoints"]} | {t["id"] for d in docs for t in d.touchpoints})
    gt = [set(g["touchpoints"]) for g in golds]
    pt = [{t["id"] for t in d.touchpoints} for d in docs]
    rep = multilabel_report(gt, pt, labels)
    out["touchpoints"] = {"macro_f1": rep["macro_f1"], **_set_f1(gt, pt)}
    gtp = [{(t, v["polarity"]) for t, v in g["touchpoints"].items()} for g in golds]
    ptp = [{(t["id"], t["sentiment"]["label"]) for t in d.touchpoints} for d in docs]
    out["touchpoint_polarity"] = _set_f1(gtp, ptp)
    pairs = [(v["polarity"], pm[t]) for g, d in zip(golds, docs)
             for pm in [{t["id"]: t["sentiment"]["label"] for t in d.touchpoints}]
             for t, v in g["touchpoints"].items() if t in pm]
    out["touchpoint_sentiment_where_detected"] = {
        "accuracy": accuracy([a for a, _ in pairs], [b for _, b in pairs]) if pairs else None,
        "macro_f1": macro_f1([a for a, _ in pairs], [b for _, b in pairs], SENT) if pairs else None, "n": len(pairs)}
    out["themes"] = _set_f1([set(g["themes"]) for g in golds], [{t["id"] for t in d.themes} for d in docs])
    gsig = []
    for g in golds:
        s = {x for x in g["signals"] if x != "recommend"}
        if "recommend" in g["signals"]:
            s.add("recommend_negative" if g.get("recommend_polarity") == "negative" else "recommend")
        gsig.append(s)
    psig = [record_signals(d) for d in docs]
    out["signals"] = _set_f1(gsig, psig)
    out["signals"]["per_label"] = {lab: _set_f1([g & {lab} for g in gsig], [p & {lab} for p in psig])["micro_f1"]
                                   for lab in sorted(set().union(*gsig, *psig))}
    gst = [g.get("stage") or "none" for g in golds]
    pst = [d.stage["id"] if d.stage else "none" for d in docs]
    out["stage"] = {"accuracy": accuracy(gst, pst)}
    def come_back(s):  # "will come back" / "will not" / neither
        return "churn_risk" if "churn_risk" in s else ("repurchase" if "repurchase" in s else "none")

    back = [(come_back(g), come_back(p)) for g, p in zip(gsig, psig) if ("repurchase" in g) != ("churn_risk" in g)]
    out["repurchase_vs_churn"] = {"accuracy": accuracy([a for a, _ in back], [b for _, b in back]) if back else None,
                                  "n": len(back)}
    return out
