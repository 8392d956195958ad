"""``voc train``: a complete model folder from a taxonomy file and labelled rows.

What is learned, from what:

* **Touchpoint (aspect) detection** — a sigmoid head per aspect over the shared clause
  features (plus transformer embeddings with a backbone), trained on whole texts and
  applied to the whole text and to each clause. Without aspect labels, the taxonomy's seed
  terms label the texts (weak supervision) and the head learns the words around them.
  The heads' C, clause-level detection and per-aspect thresholds and lexicon weights are
  chosen on out-of-fold scores (``cv_folds``-fold cross-validation over the labelled rows).
* **Aspect polarity** — a 3-class head over the aspect's evidence clauses, when the rows
  give polarities; with a base model it starts from the base sentiment head (its decision
  values are features whose learned weights are folded back into one linear head). C and
  class weights are chosen out of fold, by accuracy.
* **Overall sentiment** — a 3-class head when the rows give an overall sentiment; else the
  base model's (the shipped default) sentiment head is kept, so a taxonomy-only model still
  has sentiment.
* Themes, stages and signals come from the taxonomy's seeds and rules.

Everything is deterministic given ``seed``; the run config, the data's SHA-256 and the
metrics go into ``meta.json`` and the model card.
"""

from __future__ import annotations

import tempfile
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import components as C
from .document import Clause, Document
from .calibration import biased_labels, tune_biases, tune_detection
from .components.touchpoints import touchpoint_score
from .errors import VocError
from .features import LinearHead, Vocabulary
from .labelled import E_DATA_EMPTY, Dataset, DataError
from .lexicon import Lexicon
from .pipeline import Pipeline, default_model_path, library_versions
from .taxonomy import Taxonomy

SENTIMENT_LABELS = ("negative", "neutral", "positive")
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)
LEXICON_WEIGHT_GRID = (0.0, 0.5, 0.9)


@dataclass
class TrainConfig:
    """Settings of one ``voc train`` run (all recorded in ``meta.json``)."""

    seed: int = 0
    C_grid: Tuple[float, ...] = (1.0, 4.0, 16.0)  # aspect heads' inverse regularisation, chosen out of fold
    C: float = 4.0               # used when nothing is scored out of fold (under 60 labelled rows)
    detection_class_weight: Optional[str] = "balanced"
    cv_folds: int = 5            # settings are tuned on out-of-fold scores; < 2: on one dev_fraction slice
    polarity_C_grid: Tuple[float, ...] = (0.5, 2.0, 8.0)  # the polarity head's, chosen out of fold
    polarity_class_weights: Tuple[Optional[str], ...] = ("balanced", None)
    polarity_metric: str = "accuracy"  # chooses the polarity settings; or "mean" (of accuracy and macro-F1)
    tune_polarity_biases: bool = False  # out of fold they bought no accuracy and cost macro-F1
    polarity_prior: bool = True  # start the polarity head from the base model's sentiment head (with a base)
    sentiment_C: float = 1.0
    min_df: int = 2              # a feature must occur in this many training texts
    dev_fraction: float = 0.15   # the tuning slice when cv_folds < 2 (models on >= 60 rows)
    base: Optional[str] = "default"  # model whose polarity lexicon / sentiment head are reused; None: none
    backbone: Optional[str] = None   # "minilm" or a local Hugging Face folder
    finetune: bool = False
    epochs: int = 5
    learning_rate: float = 1e-4  # MiniLM-sized encoders need a higher rate than BERT-base's 2e-5..5e-5
    max_length: int = 128
    name: str = "custom"
    version: str = "1.0.0"


Progress = Callable[[str], None]


class TrainError(VocError):
    """Training cannot go ahead (nothing usable to learn from)."""


def _quiet(msg: str) -> None:
    pass


def train(taxonomy: Taxonomy, data: Optional[Dataset], config: TrainConfig = TrainConfig(),
          progress: Progress = _quiet) -> Tuple[Pipeline, dict]:
    """Fit a pipeline; returns it with a training report (also stored in its meta)."""
    try:
        import sklearn  # noqa: F401 - the heads are fitted with scikit-learn
        del sklearn
    except ImportError as e:
        from .errors import E_DEPENDENCY, DependencyError

        raise DependencyError('voc train needs scikit-learn: pip install -e ".[train]"', E_DEPENDENCY) from e
    t0 = time.perf_counter()
    rng_note = f"seed {config.seed}"
    rows = list(data.rows) if data is not None else []
    if data is not None and not rows:
        raise DataError(data.path, [(E_DATA_EMPTY, data.path, "no usable rows: every row had a problem or the "
                                                              "file is empty")])
    base = _load_base(config.base)
    aspects = taxonomy.ids("touchpoints")
    lexicons = _lexicons(taxonomy, base)
    rules = [(sec, lab, rx) for sec, lab, _lang, rx in taxonomy.rule_rows()]

    tmp = tempfile.TemporaryDirectory(prefix="voc-train-")
    user_dict = Path(tmp.name) / "userdict.txt"
    from .train import Front, write_user_dict

    write_user_dict(lexicons, user_dict)
    front = Front(lexicons, user_dict, rules)
    progress(f"[1/5] reading {len(rows):,} texts through the front of the pipeline ({rng_note})")
    docs = []
    for k, r in enumerate(rows, 1):
        docs.append(front.doc(r.text))
        if k % 5000 == 0 and k < len(rows):
            progress(f"      {k:,} / {len(rows):,} texts")
    clause_strs = [[front._feat.clause_strings(d, c) for c in d.clauses] for d in docs]

    vocab, base_sent = _vocabulary(clause_strs, config, base)
    encoder, backbone_cfg, finetuned_dir = None, None, None
    if config.backbone:
        encoder, backbone_cfg, finetuned_dir = _backbone(config, rows, docs, aspects, progress, tmp.name)
    featurizer = C.Featurizer(vocab, encoder, backbone_cfg)
    progress(f"[2/5] featurizing: {len(vocab):,} features" + (f" + {encoder.dim}-d {config.backbone} embeddings"
                                                              if encoder is not None else ""))
    index = vocab.index_
    for d, strs in zip(docs, clause_strs):
        for c, fs in zip(d.clauses, strs):
            c.x = np.fromiter({index[f] for f in fs if f in index}, dtype=np.int32)
    if encoder is not None:
        for k in range(0, len(docs), 256):
            featurizer.embed(docs[k:k + 256])
    dim = encoder.dim if encoder is not None else 0
    wholes = [_whole(d, dim) for d in docs]
    n_cols = len(vocab) + dim

    # ---- touchpoint detection
    Y, supervision = _detection_targets(rows, docs, aspects)
    if Y is None:
        raise TrainError("Nothing to learn touchpoints from: the data has no aspect labels and no text contains a "
                         "seed term of the taxonomy. Add seeds to the taxonomy or label some rows.", E_DATA_EMPTY)
    labelled = np.array([r.has_aspects for r in rows], dtype=bool) if supervision == "labelled" \
        else np.ones(len(rows), dtype=bool)  # rows that say nothing about aspects teach detection nothing
    folds = _folds(rows, labelled, config)
    scored = folds >= 0  # rows that get out-of-fold scores to tune on
    n_folds = len(set(folds[scored].tolist()))
    progress(f"[3/5] touchpoint heads: {len(aspects)} labels, {supervision} supervision, {int(labelled.sum()):,} rows"
             + (f", {int(scored.sum()):,} scored out of fold ({n_folds} fold{'s' if n_folds > 1 else ''})"
                if scored.any() else ""))
    thresholds: Dict[str, float] = {a: 0.5 for a in aspects}
    lex_weights: Dict[str, float] = {a: (0.9 if supervision == "weak" else 0.5) for a in aspects}
    dev_f1: Dict[str, float] = {}
    chosen_C, clause_level, dev_micro = config.C, True, None
    if not rows:  # seed terms only: the lexicon decides
        tp_head = LinearHead(aspects, "sigmoid")
        tp_head.coef_ = np.zeros((n_cols, len(aspects)), dtype=np.float32)
        tp_head.intercept_ = np.full(len(aspects), -10.0, dtype=np.float32)
        lex_weights = {a: 1.0 for a in aspects}
    else:
        if scored.any():
            dev_micro, chosen_C, clause_level, thresholds, lex_weights, dev_f1 = _fit_detection(
                aspects, wholes, docs, Y, labelled, folds, n_cols, config, progress)
        tp_head = fit_head(_detection_head(aspects, chosen_C, config), clause_rows(wholes, labelled, n_cols),
                           Y[labelled])
    parents = taxonomy.parents("touchpoints")
    touch = C.TouchpointClassifier(tp_head, thresholds=thresholds, lexicon_weights=lex_weights, text_level=True,
                                   parents=parents, clause_level=clause_level)

    # ---- sentiment (overall)
    sentiment, sent_source = _sentiment(rows, wholes, n_cols, config, base, base_sent, progress)

    # ---- aspect polarity
    polarity_head = None
    pol_units, pol_y, pol_rows = _polarity_units(rows, docs, touch)
    polarity_choice: dict = {}
    prior = _sentiment_prior(base_sent) if config.polarity_prior else None
    if len(pol_y) >= 10 and len(set(pol_y)) >= 2:
        pol_y = np.array(pol_y)
        X_pol = C.clause_matrix(pol_units, n_cols)
        polarity_choice = _choose_polarity(X_pol, pol_y, folds[pol_rows], config, prior)
        progress(f"[5/5] aspect polarity head on {len(pol_y):,} labelled aspect mentions "
                 f"(C={polarity_choice['C']}, class weights: {polarity_choice['class_weight'] or 'none'}"
                 + (", starting from the base model's sentiment head" if prior is not None else "") + ")")
        polarity_head = fit_head(LinearHead(list(SENTIMENT_LABELS), "softmax", C=polarity_choice["C"],
                                            class_weight=polarity_choice["class_weight"], seed=config.seed),
                                 X_pol, pol_y, prior)
        touch.polarity_head = polarity_head
        touch.neutral_bias = C.as_bias(polarity_choice["neutral_bias"])
        touch.positive_bias = C.as_bias(polarity_choice["positive_bias"])
    else:
        progress("[5/5] no aspect polarities in the data: each aspect takes the sentiment of its clauses")

    signals = C.SignalDetector(_signal_patterns(taxonomy, base), labels=taxonomy.ids("signals"))
    stage = C.StageClassifier(priors=taxonomy.stage_priors() if taxonomy.ids("stages") else {})
    theme_bias = sentiment.neutral_bias
    comps = front.stages + [featurizer, sentiment, touch, C.ThemeTagger(neutral_bias=theme_bias), signals, stage]
    if polarity_head is None:  # aspects take their clauses' sentiment: calibrated like the sentiment head
        touch.neutral_bias, touch.positive_bias = sentiment.neutral_bias, sentiment.positive_bias
    seconds = round(time.perf_counter() - t0, 1)
    report = {
        "supervision": supervision,
        "sentiment_source": sent_source,
        "polarity_head": polarity_head is not None,
        "polarity_class_weight": polarity_choice.get("class_weight"),
        "polarity_C": polarity_choice.get("C"),
        "polarity_prior": polarity_head is not None and prior is not None,
        "polarity_biases": [polarity_choice["neutral_bias"], polarity_choice["positive_bias"]]
        if polarity_choice else None,
        "dev_polarity": polarity_choice.get("scores"),
        "rows": len(rows),
        "dev_rows": int(scored.sum()),
        "cv_folds": n_folds,
        "features": len(vocab),
        "dev_detection_f1": dev_f1,
        "dev_detection_micro_f1": None if dev_micro is None else round(dev_micro, 4),
        "aspect_C": chosen_C,
        "clause_level_detection": clause_level,
        "thresholds": thresholds,
        "lexicon_weights": lex_weights,
        "train_seconds": seconds,
    }
    meta = {
        "name": config.name,
        "version": config.version,
        "description": f"Trained by `voc train` on taxonomy {taxonomy.name!r}.",
        "languages": ["zh", "en"],
        "labels": {"touchpoints": aspects, "themes": taxonomy.ids("themes"), "stages": taxonomy.ids("stages"),
                   "signals": taxonomy.ids("signals")},
        "taxonomy": taxonomy.to_dict(),
        "train_config": asdict(config),
        "data": _data_meta(data),
        "training": report,
        "backbone": backbone_cfg,
        "requirements": library_versions(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    nlp = Pipeline(comps, meta=meta)
    nlp._finetuned_dir = finetuned_dir  # copied into the folder by save()
    nlp._tmp = tmp  # keeps the user dictionary alive until the model is saved
    progress(f"done in {seconds} s")
    return nlp, report


def save(nlp: Pipeline, path) -> None:
    """Write the model folder, the fine-tuned backbone (if any) and the model card."""
    import shutil

    from .evaluate import model_card

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # write next to the target, then swap: an interrupted save never leaves half a model
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        nlp.to_disk(tmp)
        ft = getattr(nlp, "_finetuned_dir", None)
        if ft:
            shutil.copytree(ft, tmp / "features" / "backbone")
        (tmp / "README.md").write_text(model_card(nlp.meta), encoding="utf-8")
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    nlp.path = path


# ---------------------------------------------------------------------------- pieces
def _whole(d: Document, dim: int) -> Clause:
    """The whole text as one unit, as the sentiment stage builds it (an empty one for a text
    without clauses, with a zero embedding when there is a backbone)."""
    if d.clauses:
        return C.merge_clauses(d.clauses, 0, len(d.text))
    w = Clause(0, len(d.text))
    w.x = np.zeros(0, np.int32)
    w.emb = np.zeros(dim, np.float32) if dim else None
    return w


def fit_head(head: LinearHead, X, y, prior: Optional[Tuple[np.ndarray, np.ndarray]] = None) -> LinearHead:
    """Fit ``head`` on the columns that occur in ``X`` only, then put the weights back in
    place (a column that never occurs gets weight 0 either way): the shared vocabulary holds
    the base model's ~470k features, of which a training set touches a few percent, and
    fitting over all of them took 95% of ``voc train``'s time.

    ``prior``: ``(W, b)``, another linear head over the same leading columns (the base model's
    sentiment head). Its decision values join the features, and the weights ``M`` learned for
    them are folded back (``(X @ W + b) @ M`` is ``X @ (W @ M) + b @ M``), so the result is one
    plain linear head that starts from what the base model knows and is corrected by the rows."""
    X = X.tocsr()
    cols = np.unique(X.indices)
    Xc = X[:, cols]
    if prior is not None:
        from scipy.sparse import csr_matrix, hstack

        W, b = prior
        Z = np.asarray(X[:, :W.shape[0]] @ W) + b
        Xc = hstack([Xc, csr_matrix(Z.astype(np.float32))], format="csr")
    head.fit(Xc, y)
    coef = np.zeros((X.shape[1], head.coef_.shape[1]), dtype=np.float32)
    coef[cols] = head.coef_[:len(cols)]
    intercept = head.intercept_
    if prior is not None:
        M = head.coef_[len(cols):]  # (prior outputs, labels)
        coef[:W.shape[0]] += W.astype(np.float32) @ M
        intercept = intercept + np.asarray(b, dtype=np.float32) @ M
    head._set(coef, intercept)
    return head


def clause_rows(units: Sequence[Clause], mask: np.ndarray, n_cols: int):
    return C.clause_matrix([u for u, m in zip(units, mask) if m], n_cols)


def _load_base(base: Optional[str]) -> Optional[Pipeline]:
    if not base:
        return None
    from .pipeline import load

    path = default_model_path() if base == "default" else Path(base)
    if not (path / "config.json").exists():
        return None
    return load(path)


def _lexicons(taxonomy: Taxonomy, base: Optional[Pipeline]) -> Dict[str, Lexicon]:
    lex = {sec: Lexicon(taxonomy.seed_rows(sec)) for sec in ("touchpoints", "themes", "stages", "signals")}
    if base is not None and "polarity" in base.get_pipe("lexicon").lexicons:
        lex["polarity"] = base.get_pipe("lexicon").lexicons["polarity"]
    return lex


def _signal_patterns(taxonomy: Taxonomy, base: Optional[Pipeline]) -> List[tuple]:
    """The base model's signal patterns for the signals this taxonomy shares with it."""
    if base is None:
        return []
    ids = set(taxonomy.ids("signals"))
    return [p for p in base.get_pipe("signals").patterns if p[0] in ids]


def _vocabulary(clause_strs, config: TrainConfig, base: Optional[Pipeline]):
    """The training texts' features; with a base sentiment head, the base vocabulary comes
    first so its weights keep their columns (new features get zero sentiment weight)."""
    texts = [sorted({f for fs in strs for f in fs}) for strs in clause_strs]
    new = Vocabulary(min_df=config.min_df).fit(texts)
    if base is None:
        return new, None
    bv = base.get_pipe("features").vocab
    extra = [f for f in new.features_ if f not in bv.index_]
    v = Vocabulary(min_df=config.min_df)
    v.features_ = list(bv.features_) + extra
    v.index_ = {f: i for i, f in enumerate(v.features_)}
    return v, base.get_pipe("sentiment")


def _detection_targets(rows, docs, aspects) -> Tuple[Optional[np.ndarray], str]:
    col = {a: k for k, a in enumerate(aspects)}
    if any(r.has_aspects for r in rows):
        Y = np.zeros((len(rows), len(aspects)), dtype=np.int8)
        for i, r in enumerate(rows):
            for a in r.aspects:
                Y[i, col[a]] = 1
        return Y, "labelled"
    # weak supervision: a seed term of an aspect in the text labels it
    Y = np.zeros((len(rows), len(aspects)), dtype=np.int8)
    for i, d in enumerate(docs):
        for c in d.clauses:
            for m in c.matches:
                if m[2] == "touchpoints" and m[3] in col and not m[4]:
                    Y[i, col[m[3]]] = 1
    if not len(rows) or Y.sum() == 0:
        return (np.zeros((0, len(aspects)), dtype=np.int8), "seed terms only") if not len(rows) else (None, "")
    return Y, "weak"


def _dev_mask(rows, config: TrainConfig) -> np.ndarray:
    if len(rows) < 60:
        return np.zeros(len(rows), dtype=bool)
    cut = int(config.dev_fraction * 1000)
    return np.array([zlib.crc32(f"{config.seed}:{r.id}:{r.line}".encode()) % 1000 < cut for r in rows])


def _folds(rows, labelled: np.ndarray, config: TrainConfig) -> np.ndarray:
    """Each labelled row's cross-validation fold (by a hash of seed, id and line), -1 for rows
    never scored. Settings are chosen on out-of-fold scores: every labelled row is tuned on
    once, by a head that did not see it (one held-out slice of a few hundred rows gave
    thresholds that moved with the seed). ``cv_folds`` < 2: that single ``dev_fraction`` slice
    (fold 0). Under 60 labelled rows nothing is scored and the defaults are used."""
    out = np.full(len(rows), -1, dtype=np.int64)
    if labelled.sum() < 60:
        return out
    if config.cv_folds < 2:
        out[_dev_mask(rows, config) & labelled] = 0
        return out
    for i, r in enumerate(rows):
        if labelled[i]:
            out[i] = zlib.crc32(f"{config.seed}:{r.id}:{r.line}".encode()) % config.cv_folds
    return out


def _fold_splits(folds: np.ndarray, mask: np.ndarray):
    """``(fit on, scored)`` boolean masks within ``mask``, one pair per fold."""
    for k in sorted(set(folds[mask & (folds >= 0)].tolist())):
        yield mask & (folds != k), mask & (folds == k)


def _detection_head(aspects, C_: float, config: TrainConfig) -> LinearHead:
    return LinearHead(aspects, "sigmoid", C=C_, class_weight=config.detection_class_weight, seed=config.seed)


def _tune_detection(labels, Qw: np.ndarray, Qc: np.ndarray, Hc: np.ndarray, owner: np.ndarray, Y: np.ndarray,
                    clause_level: bool = True):
    """Per-aspect threshold and lexicon weight that maximise F1 on the scored rows (``Qw``: the
    rows' whole-text probabilities; ``Qc``/``Hc``: their clauses' probabilities and lexicon
    hits, ``owner`` the row of each clause); also the micro-F1 they give, to compare settings."""
    n = len(Qw)
    thresholds, weights, f1s = {}, {}, {}
    P = np.zeros(Y.shape, dtype=bool)
    doc_hit = np.zeros((n, len(labels)))
    np.maximum.at(doc_hit, owner, Hc)

    for k, lab in enumerate(labels):
        def score(lw, k=k):
            s = touchpoint_score(Qw[:, k], doc_hit[:, k], lw)
            if clause_level:
                cmax = np.zeros(n)
                np.maximum.at(cmax, owner, touchpoint_score(Qc[:, k], Hc[:, k], lw))
                s = np.maximum(s, cmax)
            return s

        lw, th, f = tune_detection(score, Y[:, k] == 1, LEXICON_WEIGHT_GRID, THRESHOLD_GRID, plateau=False)
        thresholds[lab], weights[lab], f1s[lab] = th, lw, f
        P[:, k] = score(lw) >= th
    tp = float((P & (Y == 1)).sum())
    micro = 2 * tp / max(1.0, P.sum() + (Y == 1).sum())
    return thresholds, weights, f1s, micro


def _fit_detection(aspects, wholes, docs, Y, labelled, folds, n_cols, config: TrainConfig, progress):
    """Choose the aspect heads' regularisation and whether clauses may add aspects the whole
    text misses, by micro-F1 over the out-of-fold scores; with them, a threshold and lexicon
    weight per aspect."""
    scored = np.flatnonzero(labelled & (folds >= 0))
    pos = {i: j for j, i in enumerate(scored.tolist())}
    n_cl = [len(docs[i].clauses) for i in scored]
    clauses = [c for i in scored for c in docs[i].clauses]
    owner = np.repeat(np.arange(len(scored)), n_cl)
    first = np.concatenate([[0], np.cumsum(n_cl)]).astype(np.int64)
    Hc = C.TouchpointClassifier(LinearHead(aspects, "sigmoid")).lexicon_hits(clauses)
    Xw = C.clause_matrix([wholes[i] for i in scored], n_cols)
    Xc = C.clause_matrix(clauses, n_cols) if clauses else None
    best = None
    for c in config.C_grid:
        Qw = np.zeros((len(scored), len(aspects)))
        Qc = np.zeros((len(clauses), len(aspects)))
        for fit_on, held in _fold_splits(folds, labelled):
            h = fit_head(_detection_head(aspects, c, config), clause_rows(wholes, fit_on, n_cols), Y[fit_on])
            js = [pos[i] for i in np.flatnonzero(held)]
            Qw[js] = h.predict_proba(Xw[js])
            cl = np.concatenate([np.arange(first[j], first[j + 1]) for j in js]).astype(np.int64)
            if Xc is not None and len(cl):
                Qc[cl] = h.predict_proba(Xc[cl])
        for clause_level in (True, False):
            th, lw, f1s, micro = _tune_detection(aspects, Qw, Qc, Hc, owner, Y[scored], clause_level)
            if best is None or micro > best[0] + 1e-9:
                best = (micro, c, clause_level, th, lw, f1s)
    progress(f"      chosen out of fold: C={best[1]}, clause-level detection {'on' if best[2] else 'off'}, "
             f"micro-F1 {best[0]:.3f}")
    return best


def _sentiment(rows, wholes, n_cols, config, base, base_sent, progress):
    y = np.array([SENTIMENT_LABELS.index(r.sentiment) if r.sentiment else -1 for r in rows])
    labelled = y >= 0
    if labelled.sum() >= 20 and len(set(y[labelled].tolist())) >= 2:
        progress(f"[4/5] sentiment head on {int(labelled.sum()):,} texts with an overall sentiment")
        head = fit_head(LinearHead(list(SENTIMENT_LABELS), "softmax", C=config.sentiment_C, class_weight="balanced",
                                   seed=config.seed), clause_rows(wholes, labelled, n_cols), y[labelled])
        return C.SentimentClassifier(head, text_weight=0.5, end_weight=0.0, contrast_weight=1.0), "labelled"
    if base_sent is None:
        raise TrainError("The data has no overall sentiment labels and there is no base model to take sentiment "
                         "from; label 'sentiment' on some rows or keep --base default.", E_DATA_EMPTY)
    progress("[4/5] no overall sentiment labels: keeping the base model's sentiment head")
    old = base_sent.head
    head = LinearHead(old.labels, old.kind, old.C)
    coef = np.zeros((n_cols, old.coef_.shape[1]), dtype=np.float32)
    coef[: old.coef_.shape[0]] = old.coef_
    head.coef_, head.intercept_ = coef, old.intercept_.copy()
    cfg = base_sent.config()
    return C.SentimentClassifier(head, **cfg), "base model"


def _polarity_units(rows, docs, touch: C.TouchpointClassifier):
    """One unit per labelled (text, aspect, polarity): the aspect's evidence clauses as the
    trained detector picks them, by the same rule as at inference."""
    todo = [(i, a, p) for i, r in enumerate(rows) for a, p in r.aspects.items() if p and docs[i].clauses]
    if not todo:
        return [], [], np.zeros(0, dtype=np.int64)
    need = sorted({i for i, _, _ in todo})
    touch.score_clauses([c for i in need for c in docs[i].clauses], *touch._weights())
    units = [C.merge_clauses(touch.evidence_clauses(docs[i], a)) for i, a, _ in todo]
    y = [SENTIMENT_LABELS.index(p) for _, _, p in todo]
    return units, y, np.array([i for i, _, _ in todo], dtype=np.int64)


def _sentiment_prior(base_sent) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """The base model's sentiment head as ``(W, b)`` for :func:`fit_head`, when there is one
    over the same three classes."""
    if base_sent is None or list(base_sent.head.labels) != list(SENTIMENT_LABELS) or base_sent.head.kind != "softmax":
        return None
    return base_sent.head.coef_, base_sent.head.intercept_


def _choose_polarity(X, y: np.ndarray, folds: np.ndarray, config: TrainConfig, prior=None) -> dict:
    """The polarity head's C and class weights (and, with ``tune_polarity_biases``, the
    neutral/positive biases added to its probabilities) that score best out of fold
    (``polarity_metric``: accuracy, SemEval's category-polarity measure, or the mean of
    accuracy and macro-F1). Under 30 scored mentions: the first C, balanced weights, no bias."""
    from .evaluate import accuracy, macro_f1

    choice = {"C": config.polarity_C_grid[0], "class_weight": "balanced", "neutral_bias": 0.0,
              "positive_bias": 0.0, "scores": None}
    scored = folds >= 0
    splits = list(_fold_splits(folds, np.ones(len(y), dtype=bool)))
    if scored.sum() < 30 or any(len(set(y[fit_on].tolist())) < 2 for fit_on, _ in splits):
        return choice
    ys = y[scored]

    def metric(pred):
        acc = accuracy(ys, pred)
        return acc if config.polarity_metric == "accuracy" else (acc + macro_f1(ys.tolist(), pred.tolist(),
                                                                                  [0, 1, 2])) / 2

    best = None
    for cw in config.polarity_class_weights:
        for c in config.polarity_C_grid:
            P = np.zeros((len(y), 3))
            for fit_on, held in splits:
                h = fit_head(LinearHead(list(SENTIMENT_LABELS), "softmax", C=c, class_weight=cw, seed=config.seed),
                             X[fit_on], y[fit_on], prior)
                P[held] = h.predict_proba(X[held])
            Ps = P[scored]
            if config.tune_polarity_biases:
                nb, pb, score = tune_biases(lambda b, q: metric(biased_labels(Ps, b, q)))
            else:
                nb, pb, score = 0.0, 0.0, metric(Ps.argmax(1))
            if best is None or score > best[0] + 1e-9:
                pred = biased_labels(Ps, nb, pb)
                best = (score, {"C": c, "class_weight": cw, "neutral_bias": nb, "positive_bias": pb,
                                "scores": {"accuracy": round(accuracy(ys, pred), 4),
                                           "macro_f1": round(macro_f1(ys.tolist(), pred.tolist(), [0, 1, 2]), 4),
                                           "n": int(scored.sum())}})
    return best[1]


def _backbone(config: TrainConfig, rows, docs, aspects, progress, tmp):
    from .backbone import Encoder, finetune, resolve_backbone

    src = resolve_backbone(config.backbone)
    # an alias ("minilm") names a package; a local folder is recorded where it is (a fine-tuned
    # encoder is copied into the model folder instead)
    cfg = {"spec": config.backbone if not Path(config.backbone).exists() else str(Path(config.backbone).resolve()),
           "max_length": config.max_length, "pooling": "mean", "finetuned": False}
    finetuned_dir = None
    if config.finetune:
        col = {a: k for k, a in enumerate(aspects)}
        texts = [r.text for r in rows]
        Y = np.zeros((len(rows), len(aspects)), dtype=np.float32)
        for i, r in enumerate(rows):
            for a in r.aspects:
                Y[i, col[a]] = 1.0
        ys = np.array([SENTIMENT_LABELS.index(r.sentiment) if r.sentiment else -1 for r in rows])
        targets, kinds = {"aspects": Y}, {"aspects": "multilabel"}
        for a in aspects:  # each aspect's polarity, where the rows give one
            ya = np.array([SENTIMENT_LABELS.index(r.aspects[a]) if r.aspects.get(a) else -1 for r in rows])
            if (ya >= 0).sum() >= 10:
                targets[f"polarity:{a}"], kinds[f"polarity:{a}"] = ya, "multiclass"
        if (ys >= 0).any():
            targets["sentiment"], kinds["sentiment"] = ys, "multiclass"
        out = Path(tmp) / "finetuned"
        progress(f"fine-tuning {config.backbone} for {config.epochs} epochs on {len(texts):,} texts")
        finetune(str(src), texts, targets, out, label_kinds=kinds, epochs=config.epochs, max_length=config.max_length,
                 seed=config.seed, lr=config.learning_rate,
                 progress=lambda step, total, loss: progress(f"  step {step}/{total} loss {loss:.4f}")
                 if step % 50 == 0 or step == total else None)
        src, finetuned_dir = out, out
        cfg["finetuned"] = True
    return Encoder(str(src), max_length=config.max_length), cfg, finetuned_dir


def _data_meta(data: Optional[Dataset]) -> dict:
    if data is None:
        return {"file": None, "rows": 0}
    return {"file": Path(data.path).name, "sha256": data.sha256, "rows": len(data.rows),
            "rows_with_problems": len(data.problems), "label_counts": data.label_counts(),
            "has_polarity": data.has_polarity(), "has_sentiment": data.has_sentiment()}
