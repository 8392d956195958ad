"""Does the experience score tell the truth? The CEM roll-up from voc's predictions against the
same roll-up from human labels, on labelled restaurant reviews.

    python -m training.rollup_truth [--json OUT] [--markdown] [--model models/voc-default]

For each dataset two (or more) sets of mention rows in the ``voc score`` format go through the
same ``voc.rollup`` functions with the same :class:`RollupConfig`:

- ``voc``: the model's touchpoints and their sentiment (:class:`voc.batch.records.Flattener`);
- ``human``: the corpus's own labels mapped onto touchpoints (ASAP aspects, SemEval opinions);
- ``human_alt``: the same labels under the other defensible aggregation rule (sensitivity);
- ``gold``: the project's hand-labelled gold set, where it covers every review of the dataset
  (a second human reading of the same texts: how far two humans disagree).

The comparison is restricted to the five touchpoints the human schemes can express
(product, service, price, store, location); what voc adds outside them is counted separately,
and the key experience voc would show with all its touchpoints is reported too. Texts are read
from ``../shared/data``; nothing from them is written anywhere. Deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from scipy import stats as st

import voc
from training import corpora
from training.evaluate import GOLD_DIR, RESTAURANT_TPS
from training.splits import ASAP_POLARITY, asap_labels, asap_polarities, is_dev, semeval_labels, \
    semeval_polarities
from voc.batch.records import MENTION_COLUMNS, Flattener, experience_score
from voc.io import Row
from voc.rollup import Filters, RecordsSource, RollupConfig, prioritize, rollup

REPO = Path(__file__).resolve().parents[1]
SIGN = {"positive": 1, "neutral": 0, "negative": -1}

# Human labels carry a direction, not an intensity. The primary human side scores a mention
# ±1 (neutral 0): the human experience score of a touchpoint is then exactly 5 + net/20, i.e.
# its net sentiment on the 0-10 scale, with no invented intensity, so a score gap measures
# everything voc's scale adds or removes (wrong polarity *and* hedged confidence). The ±0.8
# variant ("a confident but not extreme mention") is reported next to it: it shows how much of
# the gap is only voc's habit of scoring short of ±1. Net sentiment, volume and the derived
# importance do not depend on this choice (standardized driver coefficients are scale-free).
HUMAN_SCALE = 1.0
HUMAN_SCALE_ALT = 0.8


# ------------------------------------------------------------------ human labels → touchpoints
def asap_sign_polarities(aspects: Dict[str, int]) -> Dict[str, str]:
    """Touchpoint → polarity from ASAP aspect scores: the sign of the sum of the touchpoint's
    mentioned aspects (−2 = not mentioned is skipped)."""
    sums: Dict[str, int] = {}
    for a, v in aspects.items():
        if v != -2:
            t = next(iter(asap_labels({a: v})))
            sums[t] = sums.get(t, 0) + v
    return {t: ASAP_POLARITY[(s > 0) - (s < 0)] for t, s in sums.items()}


def majority(polarities: Iterable[str]) -> Optional[str]:
    """The most frequent polarity; a tie between the most frequent ones is ``neutral``
    (praise and complaint in equal measure); ``None`` for no opinions."""
    c = Counter(polarities)
    if not c:
        return None
    top = max(c.values())
    best = [p for p, k in c.items() if k == top]
    return best[0] if len(best) == 1 else "neutral"


def semeval_majority_polarities(opinions: Sequence[dict]) -> Dict[str, str]:
    """Touchpoint → the majority polarity of its opinions (ties → neutral). FOOD#*, DRINKS#* →
    product; *#PRICES → price; SERVICE → service; AMBIENCE → store; LOCATION → location;
    RESTAURANT#GENERAL/MISCELLANEOUS (the overall verdict) → no touchpoint."""
    per: Dict[str, List[str]] = {}
    for o in opinions:
        for t in semeval_labels([o])[0]:
            per.setdefault(t, []).append(o["polarity"])
    return {t: majority(p) for t, p in per.items()}


def semeval_overall(opinions: Sequence[dict]) -> int:
    """The review's overall sentiment (−1/0/1) for key-driver analysis: the majority of its
    RESTAURANT#GENERAL opinions (the annotators' overall verdict), else of all its opinions."""
    general = [o["polarity"] for o in opinions if o["category"] == "RESTAURANT#GENERAL"]
    return SIGN[majority(general or [o["polarity"] for o in opinions]) or "neutral"]


def star_overall(star: float) -> float:
    """A Dianping star rating (1-5) as an overall sentiment score in −1..1."""
    return (float(star) - 3.0) / 2.0


def human_mentions(row: int, rid: str, polarities: Dict[str, str], overall: float, scale: float = HUMAN_SCALE,
                   language: Optional[str] = None) -> List[dict]:
    """One review's human labels as mention rows in the ``voc score`` format."""
    out = []
    for label in sorted(polarities):
        s = scale * SIGN[polarities[label]]
        m = dict.fromkeys(MENTION_COLUMNS)
        m.update({"row": row, "id": rid, "language": language, "kind": "touchpoint", "label": label,
                  "sentiment": polarities[label], "sentiment_score": s, "score": round(experience_score(s), 4),
                  "doc_sentiment_score": scale * overall, "evidence": "[]"})
        out.append(m)
    return out


# ------------------------------------------------------------------ datasets
# What the shipped model saw of each corpus (models/voc-default/meta.json "training", and
# training/train_default.py, calibrate.py, gold_sample.py).
EXPOSURE = {
    "asap_train": "trained on (touchpoint head: its 100 reviews' aspect sets)",
    "asap_dev": "calibration dev (touchpoint thresholds, touchpoint- and overall-sentiment biases tuned on it)",
    "asap_test": "held out (the project's zh_restaurant gold slice; excluded from training)",
    "semeval15_test_reviews": "seen: SemEval-2016 train = 2015 train + 2015 test, trained on except a 20% "
                              "calibration-dev share (by review id); overall-sentiment calibration used all of it",
    "semeval16_test_reviews": "held out (60 of its 90 reviews are the project's en_reviews gold slice)",
}


def read_gold() -> Dict[tuple, dict]:
    out = {}
    for f in sorted(GOLD_DIR.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                out[(d["corpus"], str(d["id"]))] = d
    return out


def load_dataset(corpus_names: Sequence[str], gold: Dict[tuple, dict], gold_only: bool = False) -> List[dict]:
    """Reviews with their human touchpoint polarities under each rule, overall sentiment and
    (where labelled) the gold set's reading."""
    items = []
    for name in corpus_names:
        for r in corpora.read(name):
            g = gold.get((r.corpus, r.id))
            if gold_only and g is None:
                continue
            if name.startswith("asap"):
                human, alt = asap_polarities(r.meta["aspects"]), asap_sign_polarities(r.meta["aspects"])
                overall = star_overall(r.meta["star"])
            else:
                ops = r.meta["opinions"]
                human, alt = semeval_majority_polarities(ops), semeval_polarities(ops)
                overall = float(semeval_overall(ops))
            items.append({"corpus": r.corpus, "id": r.id, "text": r.text, "lang": r.meta.get("lang"),
                          "human": human, "human_alt": alt, "overall": overall, "gold": g})
    return items


def semeval15_overlap() -> dict:
    """How the SemEval-2015 test reviews sit inside the 2016 train set the model learned from."""
    train = {r.id for r in corpora.read("semeval16_train_reviews")}
    ids = [r.id for r in corpora.read("semeval15_test_reviews")]
    inside = [i for i in ids if i in train]
    dev = [i for i in inside if is_dev("semeval16_train", i)]
    return {"reviews": len(ids), "in_semeval16_train": len(inside), "of_which_calibration_dev": len(dev),
            "trained_on": len(inside) - len(dev)}


# ------------------------------------------------------------------ sides → roll-ups
def side_rows(items: Sequence[dict], side: str, scale: float = HUMAN_SCALE) -> List[dict]:
    """Mention rows of one human side; ``gold`` keeps every touchpoint the labeller gave (the
    roll-up filters to the five), so its full ranking can face voc's full ranking."""
    rows = []
    for n, it in enumerate(items):
        if side == "gold":
            g = it["gold"]
            pols = dict(g["touchpoints"])
            rows += human_mentions(n, it["id"], pols, SIGN[g["sentiment"]], scale, it["lang"])
        else:
            rows += human_mentions(n, it["id"], it[side], it["overall"], scale, it["lang"])
    return rows


def voc_rows(nlp, items: Sequence[dict]) -> List[dict]:
    flat = Flattener(keep_text=False)
    rows = []
    for n, (it, doc) in enumerate(zip(items, nlp.pipe([it["text"] for it in items]))):
        _, mentions, err = flat(Row(n, it["id"], it["text"], {}), doc)
        if err:
            raise RuntimeError(f"voc could not score {it['corpus']}:{it['id']}: {err['message']}")
        rows += mentions
    return rows


def summarize(mentions: List[dict], config: RollupConfig, name: str, restrict: bool = True) -> dict:
    """Roll-up rows and the priority ranking of one side (restricted to the five touchpoints)."""
    src = RecordsSource([], mentions, source=name)
    f = Filters(labels=RESTAURANT_TPS) if restrict else None
    pr = prioritize(src, "touchpoint", f, config)
    return {"rollup": {r["label"]: r for r in rollup(src, "touchpoint", ("label",), None, f, config)},
            "ranking": {i["label"]: i for i in pr["ranking"]},
            "key_experience": (pr["key_experience"] or {}).get("label"),
            "drivers": pr["drivers"]}


def spearman(a: dict, b: dict) -> Optional[float]:
    """Rank correlation of the weighted satisfaction of the touchpoints ranked on both sides."""
    common = sorted(k for k in a["ranking"] if a["ranking"][k]["rank"] and (b["ranking"].get(k) or {}).get("rank"))
    if len(common) < 3:
        return None
    rho = st.spearmanr([a["ranking"][k]["weighted_satisfaction"] for k in common],
                       [b["ranking"][k]["weighted_satisfaction"] for k in common]).statistic
    return None if rho != rho else round(float(rho), 4)


def compare(ref: dict, other: dict) -> dict:
    """How far ``other``'s roll-up is from ``ref``'s (the reference is the truth side)."""
    labels = sorted(ref["rollup"])
    vol = {k: ref["rollup"][k]["volume"] for k in labels}
    err = {k: abs(ref["rollup"][k]["net_sentiment"] - other["rollup"][k]["net_sentiment"])
           for k in labels if k in other["rollup"]}
    scored = [k for k in labels if ref["rollup"][k]["score"] is not None
              and (other["rollup"].get(k) or {}).get("score") is not None]
    total = sum(vol[k] for k in err)
    return {
        "key_experience": [ref["key_experience"], other["key_experience"]],
        "same_key_experience": ref["key_experience"] == other["key_experience"],
        "spearman_weighted_satisfaction": spearman(ref, other),
        "net_sentiment_mae_volume_weighted": round(sum(vol[k] * err[k] for k in err) / total, 2) if total else None,
        "net_sentiment_mae": round(sum(err.values()) / len(err), 2) if err else None,
        "net_sentiment_bias_volume_weighted": round(sum(vol[k] * (other["rollup"][k]["net_sentiment"]
                                                              - ref["rollup"][k]["net_sentiment"]) for k in err)
                                                    / total, 2) if total else None,
        "score_mae": round(sum(abs(ref["rollup"][k]["score"] - other["rollup"][k]["score"]) for k in scored)
                           / len(scored), 3) if scored else None,
        "volume_ratio": {k: round(other["rollup"][k]["volume"] / vol[k], 3) for k in err},
    }


def mention_agreement(items: Sequence[dict], voc_mentions: List[dict]) -> dict:
    """Review-level detection (precision/recall per touchpoint) and polarity agreement where both
    sides name the touchpoint: where the roll-up gaps come from."""
    pred: Dict[int, Dict[str, str]] = {}
    for m in voc_mentions:
        if m["kind"] == "touchpoint" and m["label"] in RESTAURANT_TPS:
            pred.setdefault(m["row"], {})[m["label"]] = m["sentiment"]
    out, agree, pairs = {}, 0, 0
    confusion: Counter = Counter()
    for t in RESTAURANT_TPS:
        tp = fp = fn = 0
        for n, it in enumerate(items):
            h, p = it["human"].get(t), pred.get(n, {}).get(t)
            tp += h is not None and p is not None
            fp += h is None and p is not None
            fn += h is not None and p is None
            if h is not None and p is not None:
                pairs += 1
                agree += h == p
                confusion[f"{h}->{p}"] += 1
        out[t] = {"precision": round(tp / (tp + fp), 3) if tp + fp else None,
                  "recall": round(tp / (tp + fn), 3) if tp + fn else None, "human": tp + fn, "voc": tp + fp}
    return {"detection": out, "polarity_agreement": round(agree / pairs, 4) if pairs else None, "pairs": pairs,
            "polarity_confusion_human_to_voc": dict(sorted(confusion.items()))}


DATASETS = [
    # name, corpora, min_volume, gold_only, title
    ("asap_all", ("asap_train", "asap_dev", "asap_test"), 30, False,
     "ASAP Dianping restaurant reviews (zh), all three shipped samples"),
    ("asap_test", ("asap_test",), 10, False, "ASAP test sample only (held out)"),
    ("semeval16_test", ("semeval16_test_reviews",), 10, False, "SemEval-2016 restaurant test reviews (en, held out)"),
    ("semeval16_test_gold", ("semeval16_test_reviews",), 10, True,
     "SemEval-2016 test reviews that are also in the project's gold set"),
    ("semeval15_test", ("semeval15_test_reviews",), 10, False,
     "SemEval-2015 restaurant test reviews (en; inside the model's training data)"),
]


def run_dataset(nlp, name, corpus_names, min_volume, gold_only, title, gold) -> dict:
    items = load_dataset(corpus_names, gold, gold_only)
    # default config; min_volume is the only override (30 needs a few hundred reviews)
    config = RollupConfig.from_yaml(overrides={"min_volume": min_volume})
    vm = voc_rows(nlp, items)
    sides = {"voc": summarize(vm, config, "voc"),
             "human": summarize(side_rows(items, "human"), config, "human"),
             "human_08": summarize(side_rows(items, "human", HUMAN_SCALE_ALT), config, "human_08"),
             "human_alt": summarize(side_rows(items, "human_alt"), config, "human_alt")}
    if all(it["gold"] for it in items):
        sides["gold"] = summarize(side_rows(items, "gold"), config, "gold")
    voc_all = summarize(vm, config, "voc", restrict=False)
    pairs = {"human_vs_voc": compare(sides["human"], sides["voc"]),
             "human_08_vs_voc": compare(sides["human_08"], sides["voc"]),
             "human_alt_vs_voc": compare(sides["human_alt"], sides["voc"]),
             "human_vs_human_alt": compare(sides["human"], sides["human_alt"])}
    outside = {"voc": Counter(m["label"] for m in vm
                              if m["kind"] == "touchpoint" and m["label"] not in RESTAURANT_TPS)}
    if "gold" in sides:
        pairs["human_vs_gold"] = compare(sides["human"], sides["gold"])
        pairs["gold_vs_voc"] = compare(sides["gold"], sides["voc"])
        gm = side_rows(items, "gold")
        outside["gold"] = Counter(m["label"] for m in gm if m["label"] not in RESTAURANT_TPS)
        gold_all = summarize(gm, config, "gold", restrict=False)
        pairs["gold_vs_voc_all_touchpoints"] = compare(gold_all, voc_all)
    at_default = None
    if min_volume != RollupConfig().min_volume:  # how the verdict moves at the shipped threshold
        dflt = RollupConfig()
        at_default = {"min_volume": dflt.min_volume,
                      "human": summarize(side_rows(items, "human"), dflt, "human")["key_experience"],
                      "voc": summarize(vm, dflt, "voc")["key_experience"],
                      "voc_all_touchpoints": summarize(vm, dflt, "voc", restrict=False)["key_experience"]}
    return {
        "name": name, "title": title, "corpora": list(corpus_names), "reviews": len(items),
        "key_experience_at_default_min_volume": at_default,
        "exposure": {c: EXPOSURE[c] for c in corpus_names}, "min_volume": min_volume,
        "reviews_with_human_touchpoint": sum(bool(it["human"]) for it in items),
        "sides": {k: {"key_experience": v["key_experience"], "rollup": v["rollup"], "ranking": v["ranking"],
                      "drivers": v["drivers"]} for k, v in sides.items()},
        "voc_all_touchpoints": {"key_experience": voc_all["key_experience"],
                                "ranking": [(i["label"], i["rank"], i["weighted_satisfaction"])
                                            for i in voc_all["ranking"].values()]},
        "touchpoints_outside_scheme": {k: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
                                       for k, c in outside.items()},
        "comparisons": pairs,
        "mentions": mention_agreement(items, vm),
    }


def study(model: Optional[str] = None) -> dict:
    t0 = time.perf_counter()
    nlp = voc.load(model) if model else voc.load()
    gold = read_gold()
    out = {"model": model or "voc default (shipped)", "human_scale": HUMAN_SCALE, "human_scale_alt": HUMAN_SCALE_ALT,
           "rules": {
               "asap_human": "training.train_default.asap_polarities: mean of the touchpoint's mentioned aspects, "
                             "neutral unless |mean| >= 0.5 (the repo's existing mapping)",
               "asap_human_alt": "sign of the sum of the touchpoint's mentioned aspects",
               "semeval_human": "majority of the touchpoint's opinions in the review, ties -> neutral",
               "semeval_human_alt": "training.train_default.semeval_polarities: unanimous opinions only, "
                                    "mixed touchpoints dropped",
               "overall": "ASAP: (star - 3) / 2; SemEval: majority of RESTAURANT#GENERAL opinions, else of all; "
                          "gold: its overall label",
               "restricted_to": RESTAURANT_TPS},
           "semeval15_in_training": semeval15_overlap(), "datasets": []}
    for spec in DATASETS:
        out["datasets"].append(run_dataset(nlp, *spec, gold))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


# ------------------------------------------------------------------ report
def _f(x, k=1):
    return "–" if x is None else f"{x:.{k}f}"


def markdown(res: dict) -> str:
    lines = ["# Does the experience score tell the truth?", "",
             "voc's roll-up (its predicted touchpoints and sentiment) against the same roll-up from human labels: "
             "same `RollupConfig` (default; `min_volume` as stated), restricted to the five touchpoints the labels "
             f"can express. Human mentions score ±{HUMAN_SCALE:g} (score H); the ±{HUMAN_SCALE_ALT:g} variant is in "
             "the summary line. Net sentiment in points (−100..100), scores 0–10, rank 1 = key experience. "
             "Importance: key-driver analysis on each side's own data (5 = default when not significant).", ""]
    for d in res["datasets"]:
        s, c = d["sides"], d["comparisons"]
        hv, h8, ha = c["human_vs_voc"], c["human_08_vs_voc"], c["human_alt_vs_voc"]
        lines += [f"## {d['title']} — `{d['name']}`", "",
                  f"{d['reviews']} reviews ({d['reviews_with_human_touchpoint']} with a labelled touchpoint); "
                  f"min_volume {d['min_volume']}. Model exposure: "
                  + "; ".join(f"{k}: {v}" for k, v in d["exposure"].items()) + ".", ""]
        gold = "gold" in s
        head = ["touchpoint", "vol H", "vol voc", "net H", "net voc", "|Δnet|", "net H alt"]
        head += ["net gold"] if gold else []
        head += ["score H", "score voc", "Δscore", "imp H", "imp voc", "rank H", "rank voc"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        order = sorted(s["human"]["rollup"], key=lambda k: (s["human"]["ranking"][k]["rank"] or 99, k))
        for k in order:
            h, v = s["human"]["rollup"][k], s["voc"]["rollup"].get(k)
            hr, vr = s["human"]["ranking"][k], (s["voc"]["ranking"].get(k) or {})
            a = s["human_alt"]["rollup"].get(k)
            cells = [k, h["volume"], v["volume"] if v else 0, _f(h["net_sentiment"]), _f(v and v["net_sentiment"]),
                     _f(v and abs(h["net_sentiment"] - v["net_sentiment"])), _f(a and a["net_sentiment"])]
            if gold:
                g = s["gold"]["rollup"].get(k)
                cells.append(_f(g and g["net_sentiment"]))
            ds = None if not v or h["score"] is None or v["score"] is None else v["score"] - h["score"]
            cells += [_f(h["score"], 2), _f(v and v["score"], 2), "–" if ds is None else f"{ds:+.2f}",
                      _f(hr["importance"]), _f(vr.get("importance")), hr["rank"] or "–", vr.get("rank") or "–"]
            lines.append("| " + " | ".join(str(x) for x in cells) + " |")
        verdict = "**same**" if hv["same_key_experience"] else "**different**"
        lines += ["",
                  f"- Key experience: human **{hv['key_experience'][0]}**, voc **{hv['key_experience'][1]}** → "
                  f"{verdict}. With all of voc's touchpoints: **{d['voc_all_touchpoints']['key_experience']}**. "
                  f"(Human ±{HUMAN_SCALE_ALT:g}: **{h8['key_experience'][0]}**; alt rule: "
                  f"**{ha['key_experience'][0]}**.)"
                  + ("" if not d["key_experience_at_default_min_volume"] else
                     " At the default min_volume {min_volume}: human **{human}**, voc **{voc}**, voc with all "
                     "touchpoints **{voc_all_touchpoints}**.".format(**d["key_experience_at_default_min_volume"])),
                  f"- Spearman ρ of weighted satisfaction (human vs voc): {_f(hv['spearman_weighted_satisfaction'], 2)}"
                  f" (±{HUMAN_SCALE_ALT:g}: {_f(h8['spearman_weighted_satisfaction'], 2)}; alt rule: "
                  f"{_f(ha['spearman_weighted_satisfaction'], 2)}).",
                  f"- Net sentiment error: volume-weighted MAE **{_f(hv['net_sentiment_mae_volume_weighted'])}** points "
                  f"(volume-weighted mean of voc − human {hv['net_sentiment_bias_volume_weighted']:+.1f}); against the "
                  f"alt rule "
                  f"{_f(ha['net_sentiment_mae_volume_weighted'])}; human rule vs alt rule "
                  f"{_f(c['human_vs_human_alt']['net_sentiment_mae_volume_weighted'])}.",
                  f"- Score MAE: {_f(hv['score_mae'], 2)} (human ±1) / {_f(h8['score_mae'], 2)} "
                  f"(human ±{HUMAN_SCALE_ALT:g}) on the 0–10 scale."]
        if gold:
            hg, gv = c["human_vs_gold"], c["gold_vs_voc"]
            lines.append(f"- Second human reading (project gold): corpus labels vs gold net MAE "
                         f"{_f(hg['net_sentiment_mae_volume_weighted'])}, key experience "
                         f"{hg['key_experience'][1]}, ρ {_f(hg['spearman_weighted_satisfaction'], 2)}; gold vs voc net "
                         f"MAE {_f(gv['net_sentiment_mae_volume_weighted'])}, ρ "
                         f"{_f(gv['spearman_weighted_satisfaction'], 2)}.")
        m = d["mentions"]
        det = ", ".join(f"{t} P {_f(x['precision'], 2)}/R {_f(x['recall'], 2)}" for t, x in m["detection"].items())
        cf = m["polarity_confusion_human_to_voc"]
        row_total = {h: sum(n for k, n in cf.items() if k.startswith(h + "->")) for h in SIGN}
        moved = "; ".join(f"{h} → {p} {cf.get(f'{h}->{p}', 0)}/{row_total[h]}"
                          for h, p in (("negative", "positive"), ("neutral", "positive"), ("positive", "negative")))
        out = d["touchpoints_outside_scheme"]
        lines += [f"- Review-level detection: {det}.",
                  f"- Polarity agreement on {m['pairs']} review × touchpoint pairs both name: "
                  f"{_f(100 * m['polarity_agreement'] if m['polarity_agreement'] is not None else None)}% "
                  f"(human → voc: {moved}).",
                  "- Touchpoints outside the five, voc: "
                  + (", ".join(f"{k} {n}" for k, n in out["voc"].items()) or "none")
                  + ("; gold: " + (", ".join(f"{k} {n}" for k, n in out["gold"].items()) or "none")
                     + f"; full-taxonomy key experience gold **{c['gold_vs_voc_all_touchpoints']['key_experience'][0]}**"
                     f" vs voc **{d['voc_all_touchpoints']['key_experience']}**" if gold else "") + ".", ""]
    o = res["semeval15_in_training"]
    lines += [f"SemEval-2015 test inside the 2016 train set: {o['in_semeval16_train']} of {o['reviews']} reviews "
              f"({o['trained_on']} trained on, {o['of_which_calibration_dev']} calibration dev). "
              f"Run time {res['seconds']} s.", ""]
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description="Compare voc's experience roll-up with the one from human labels.")
    ap.add_argument("--model", help="model folder (default: the shipped model)")
    ap.add_argument("--json", help="write every number to this JSON file")
    ap.add_argument("--markdown", action="store_true", help="print only the Markdown tables")
    args = ap.parse_args(argv)
    res = study(args.model)
    md = markdown(res)
    print(md)
    if not args.markdown:
        print(json.dumps(res, indent=2, ensure_ascii=False, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return res


if __name__ == "__main__":
    main()
