"""Evaluate a model on the hand-labelled gold set (``data/gold``) and write its model card.

The figures that count for the default model are leave-one-source-out
(``python -m training.train_default --loso all``, stored in ``meta.json`` as ``loso``); the
gold set adds texts from the training sources that no model trained on (excluded by hash).

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


from training import corpora
from training.splits import asap_polarities, semeval_polarities
import voc
from voc.evaluate import accuracy, bootstrap_ci, evaluate_records, macro_f1, model_card

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


def gold_record(r: dict) -> dict:
    """A gold row in the annotated corpus's record form (what :func:`voc.evaluate.evaluate_records` scores)."""
    return dict(r, touchpoints={t: {"polarity": p} for t, p in r["touchpoints"].items()},
                recommend_polarity=r.get("recommend_polarity"))


def eval_gold(nlp, rows) -> dict:
    """Every label family per gold slice, per language and overall, through the one scoring
    path (:func:`voc.evaluate.evaluate_records`)."""
    docs = list(nlp.pipe([r["text"] for r in rows], batch_size=256))
    groups = defaultdict(list)
    for r, d in zip(rows, docs):
        for g in ("all", r["slice"], "lang:" + ("zh" if r["slice"].startswith("zh") else "en")):
            groups[g].append((gold_record(r), d))
    out = {name: evaluate_records([g for g, _ in items], [d for _, d in items]) for name, items in groups.items()}
    for name in ("all", "lang:zh", "lang:en"):  # how far to trust them: 95% bootstrap intervals over texts
        items = groups[name]
        out[name]["ci95"] = {
            "sentiment_macro_f1": bootstrap_ci(items, lambda its: macro_f1([g["sentiment"] for g, _ in its],
                                                                           [d.sentiment["label"] for _, d in its], SENT)),
            "touchpoints_micro_f1": bootstrap_ci(items, lambda its: evaluate_records(
                [g for g, _ in its], [d for _, d in its])["touchpoints"]["micro_f1"], n=200)}
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


def throughput(nlp, texts, repeat=1):
    t = time.perf_counter()
    n = 0
    for _ in range(repeat):
        for _ in nlp.pipe(texts, batch_size=512):
            n += 1
    return round(n / (time.perf_counter() - t), 1)


def in_source_proxies(nlp) -> dict:
    """The shipped model on the same external-like sets (ASAP test, SemEval-16 test, CLUE Weibo
    test): texts it never trained on (by hash), from sources it did train on. Closer to the
    product's own proxies of earlier stops than to an unseen source."""
    from training.annotation import text_hash
    from training.splits import annotations
    from training.train_default import eval_proxy, proxy_sets

    trained = {d["hash"] for d in annotations(texts=False) if d["split"] == "train"}
    out = {}
    for src in ("asap", "semeval", "clue_emotion"):
        for name, items in proxy_sets(src).items():
            out[name] = eval_proxy(nlp, [(t, g) for t, g in items if text_hash(t) not in trained])
    return out


def _get(d, *path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _fmt(x):
    return "–" if x is None else f"{x:.3f}"


ZH_REVIEW_SOURCES = ("waimai", "online_shopping", "chnsenticorp_htl", "asap")


def issue_table(meta: dict) -> str:
    """The accuracy table of issue 12, every figure from a model that never saw the set's
    source (``meta["loso"]``): ``(kind of external set, metric, goal, figure, where from)``."""
    lo = meta.get("loso", {})
    by = lo.get("by_source", {})
    ins = meta.get("metrics", {}).get("proxies_in_source", {})

    def src(s, *path):
        return _get(by, s, *path)

    def shipped(path):  # the same figure from the shipped model (source seen, texts not)
        return _get(ins, *path[1:]) if path and path[0] == "proxies" else None

    rc = [(by[s]["annotated"]["repurchase_vs_churn"]["accuracy"], by[s]["annotated"]["repurchase_vs_churn"]["n"])
          for s in ZH_REVIEW_SOURCES if s in by and by[s]["annotated"]["repurchase_vs_churn"]["accuracy"] is not None]
    n_rc = sum(n for _, n in rc)
    rc_acc = sum(a * n for a, n in rc) / n_rc if n_rc else None
    rows = [
        ("Weibo posts, negative vs rest", "accuracy", 0.82,
         [(src("clue_emotion", "proxies", "clue_emotion_test_weibo", "negative_vs_rest_accuracy"),
           "CLUE emotion test, hashtag labels", ("proxies", "clue_emotion_test_weibo", "negative_vs_rest_accuracy")),
          (src("clue_emotion", "annotated", "sentiment", "negative_vs_rest_accuracy"), "annotated Weibo posts")]),
        ("Weibo posts, emoticons removed, binary", "accuracy", 0.75,
         [(src("clue_emotion", "proxies", "clue_emotion_test_weibo_no_emoticons", "binary_accuracy"),
           "CLUE emotion test posts that had [emoticons], removed", ("proxies", "clue_emotion_test_weibo_no_emoticons", "binary_accuracy"))]),
        ("Weibo posts, 3-class", "macro-F1", 0.60,
         [(src("clue_emotion", "annotated", "sentiment", "macro_f1"), "annotated Weibo posts")]),
        ("review sentences (Amazon/Yelp/IMDB kind)", "accuracy", 0.88,
         [(src("semeval", "proxies", "semeval16_test_en_restaurant_sentences", "sentiment_binary_accuracy"), "SemEval-16 test sentences, one polarity", ("proxies", "semeval16_test_en_restaurant_sentences", "sentiment_binary_accuracy"))]),
        ("Chinese restaurant reviews, overall 3-class", "macro-F1", 0.70,
         [(src("asap", "proxies", "asap_test_zh_restaurant_reviews", "sentiment_3class_macro_f1"), "ASAP test, stars", ("proxies", "asap_test_zh_restaurant_reviews", "sentiment_3class_macro_f1")),
          (src("asap", "annotated", "sentiment", "macro_f1"), "annotated ASAP reviews")]),
        ("English restaurant reviews, overall 3-class", "macro-F1", 0.65,
         [(src("semeval", "proxies", "semeval16_test_en_restaurant_reviews", "sentiment_3class_macro_f1"),
           "SemEval-16 test reviews, opinion balance", ("proxies", "semeval16_test_en_restaurant_reviews", "sentiment_3class_macro_f1")),
          (src("semeval", "annotated", "sentiment", "macro_f1"), "annotated SemEval reviews")]),
        ("restaurant touchpoint detection, zh", "macro-F1 (5)", 0.90,
         [(src("asap", "proxies", "asap_test_zh_restaurant_reviews", "touchpoint_detection_macro_f1"), "ASAP test aspects", ("proxies", "asap_test_zh_restaurant_reviews", "touchpoint_detection_macro_f1"))]),
        ("restaurant touchpoint detection, en", "macro-F1 (5)", 0.88,
         [(src("semeval", "proxies", "semeval16_test_en_restaurant_sentences", "touchpoint_detection_macro_f1"), "SemEval-16 test categories", ("proxies", "semeval16_test_en_restaurant_sentences", "touchpoint_detection_macro_f1"))]),
        ("restaurant touchpoint sentiment, zh", "macro-F1 (accuracy where found)", 0.70,
         [(src("asap", "proxies", "asap_test_zh_restaurant_reviews", "touchpoint_sentiment_macro_f1"), "ASAP test aspect polarities", ("proxies", "asap_test_zh_restaurant_reviews", "touchpoint_sentiment_macro_f1")),
          (src("asap", "proxies", "asap_test_zh_restaurant_reviews", "touchpoint_sentiment_accuracy_where_detected"), "  accuracy where found", ("proxies", "asap_test_zh_restaurant_reviews", "touchpoint_sentiment_accuracy_where_detected"))]),
        ("restaurant touchpoint sentiment, en", "macro-F1 (accuracy where found)", 0.70,
         [(src("semeval", "proxies", "semeval16_test_en_restaurant_sentences", "touchpoint_sentiment_macro_f1"), "SemEval-16 test opinions", ("proxies", "semeval16_test_en_restaurant_sentences", "touchpoint_sentiment_macro_f1")),
          (src("semeval", "proxies", "semeval16_test_en_restaurant_sentences", "touchpoint_sentiment_accuracy_where_detected"), "  accuracy where found", ("proxies", "semeval16_test_en_restaurant_sentences", "touchpoint_sentiment_accuracy_where_detected"))]),
        ("will come back vs will not, zh reviews", "accuracy", 0.80,
         [(rc_acc, f"annotated zh reviews with one of the two (n={n_rc})")]),
        ("mixed customer texts: touchpoints", "micro-F1", 0.76,
         [(_get(lo, "pooled", "touchpoints", "micro_f1"), "annotated corpus, all sources pooled")]),
        ("mixed customer texts: themes", "micro-F1", 0.70, [(_get(lo, "pooled", "themes", "micro_f1"), "same")]),
        ("mixed customer texts: signals", "micro-F1", 0.72, [(_get(lo, "pooled", "signals", "micro_f1"), "same")]),
        ("mixed customer texts: stage", "accuracy", 0.75, [(_get(lo, "pooled", "stage", "accuracy"), "same")]),
    ]
    L = ["| external set (kind) | metric | goal | held-out-source figure | shipped model (source seen, texts not) "
         "| measured on |", "|---|---|---|---|---|---|"]
    for kind, metric, goal, figs in rows:
        for i, (v, where, *path) in enumerate(figs):
            hit = v is not None and v >= goal and not where.startswith("  ")
            val = f"**{_fmt(v)}**" if hit else _fmt(v)
            sv = shipped(path[0]) if path else None
            L.append(f"| {kind if i == 0 else ''} | {metric if i == 0 else ''} | {goal if i == 0 else ''} | {val} | "
                     f"{_fmt(sv) if path else ''} | {where.strip()} |")
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Evaluate a voc model on the gold set and proxies.")
    ap.add_argument("--model", default=str(REPO / "models/voc-default"))
    ap.add_argument("--write", action="store_true", help="store metrics in meta.json and regenerate README.md")
    ap.add_argument("--output", help="also write the scores to this JSON file")
    ap.add_argument("--table", action="store_true", help="print the held-out-source accuracy table and stop")
    args = ap.parse_args(argv)
    if args.table:
        print(issue_table(json.loads((Path(args.model) / "meta.json").read_text(encoding="utf-8"))))
        return None
    nlp = voc.load(args.model)
    rows = load_gold()
    metrics = {"gold": eval_gold(nlp, rows), "agreement": label_agreement(rows),
               "proxies_in_source": in_source_proxies(nlp)}
    g = metrics["gold"]["all"]
    print(json.dumps({k: g[k] for k in ("sentiment", "touchpoints", "touchpoint_polarity", "themes", "stage")},
                     indent=1, ensure_ascii=False))
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
