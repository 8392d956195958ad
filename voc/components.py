"""The pipeline's stages. Each is a named callable ``Document -> Document``; the learned
ones also take a batch through ``pipe(docs)`` so a batch is scored with one matrix product.

Order (fixed): normalize → language → segment → clauses → lexicon → features →
sentiment → touchpoints → themes → signals → stage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from . import resources as R
from .clauses import split_clauses
from .document import Clause, Document, sentiment_record
from .features import LinearHead, Vocabulary, clause_features
from .language import detect_language
from .lexicon import Lexicon
from .normalize import DEFAULT_STEPS, make_step, normalize
from .segment import Segmenter


class Component:
    name = "component"

    def __call__(self, doc: Document) -> Document:
        raise NotImplementedError

    def pipe(self, docs: List[Document]) -> List[Document]:
        return [self(d) for d in docs]

    def to_disk(self, path: Path) -> None:
        """Write learned state and settings under ``path`` (a folder)."""

    def config(self) -> dict:
        return {}


class Normalizer(Component):
    name = "normalize"

    def __init__(self, steps: Sequence[str] = DEFAULT_STEPS):
        self.steps = list(steps)
        self._fns = [make_step(s) for s in self.steps]

    def __call__(self, doc):
        doc.norm = normalize(doc.text, self._fns)
        return doc

    def config(self):
        return {"steps": self.steps}


class LanguageDetector(Component):
    name = "language"

    def __call__(self, doc):
        doc.language = detect_language(doc.norm)
        return doc


class Tokenizer(Component):
    name = "segment"

    def __init__(self, user_dict: str | None = None, hmm: bool = False):
        self.segmenter = Segmenter(user_dict, hmm=hmm)

    def __call__(self, doc):
        doc.tokens = self.segmenter(doc.norm, doc.language)
        return doc

    def config(self):
        return {"hmm": self.segmenter.hmm}

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        src = self.segmenter.user_dict
        dst = path / "userdict.txt"
        if src and Path(src).resolve() != dst.resolve():
            dst.write_text(Path(src).read_text(encoding="utf-8"), encoding="utf-8")


class ClauseSplitter(Component):
    name = "clauses"

    def __call__(self, doc):
        clauses = []
        toks = doc.tokens
        t = 0
        for start, end, contrast in split_clauses(doc.norm):
            while t < len(toks) and toks[t][1] < start:
                t += 1
            t0 = t
            while t < len(toks) and toks[t][2] <= end:
                t += 1
            clauses.append(Clause(start, end, contrast, t0, t))
        doc.clauses = clauses
        return doc


LEXICON_KINDS = ("touchpoints", "themes", "stages", "signals", "polarity")


class LexiconTagger(Component):
    """Match the taxonomy's seed lexicons inside each clause, noting negation before a match."""

    name = "lexicon"

    def __init__(self, lexicons: Dict[str, Lexicon]):
        self.lexicons = lexicons
        # one combined table: a single longest-match pass per clause serves every lexicon
        self._combined = Lexicon([(f"{kind}\t{lab}", lang, term) for kind, lex in lexicons.items()
                                  for lab, lang, term in lex.rows])

    def __call__(self, doc):
        for c in doc.clauses:
            words = [w for w, _, _ in doc.tokens[c.tok_start:c.tok_end]]
            ms = []
            taken: Dict[str, set] = {}
            # per kind, longest match first: "won't be back" (churn) beats "be back" (repurchase)
            for i, j, kl in sorted(self._combined.match_all(words), key=lambda m: (m[0] - m[1], m[0])):
                kind, label = kl.split("\t")
                used = taken.setdefault(kind, set())
                if any(k in used for k in range(i, j)):
                    if not any((m[0], m[1], m[2]) == (c.tok_start + i, c.tok_start + j, kind) for m in ms):
                        continue
                used.update(range(i, j))
                ms.append((c.tok_start + i, c.tok_start + j, kind, label, _negated(words, i)))
            ms.sort()
            c.matches = ms
        return doc

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        for kind, lex in self.lexicons.items():
            lex.to_tsv(path / f"{kind}.tsv")

    @classmethod
    def from_disk(cls, path: Path) -> "LexiconTagger":
        return cls({k: Lexicon.from_tsv(path / f"{k}.tsv") for k in LEXICON_KINDS if (path / f"{k}.tsv").exists()})


def _negated(words: Sequence[str], i: int) -> bool:
    lo = max(0, i - R.NEGATION_WINDOW)
    for k in range(lo, i):
        w = words[k]
        if w in R.ZH_NEGATORS or w in R.EN_NEGATORS or w.endswith("n't"):
            if k + 1 < len(words) and words[k + 1] in R.NEGATION_BREAKERS:
                continue  # "can't wait to come back", "won't stop going back"
            return True
    return False


class Featurizer(Component):
    """Turn each clause (and the whole text) into feature columns of the shared vocabulary."""

    name = "features"

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab

    def clause_strings(self, doc: Document, c: Clause) -> List[str]:
        words = [w for w, _, _ in doc.tokens[c.tok_start:c.tok_end]]
        labs = []
        net = 0
        for _, _, kind, lab, neg in c.matches:
            if kind == "polarity":
                # labels: pos/neg with an optional strength digit (pos3 = strongly positive)
                sign = 1 if lab.startswith("pos") else -1
                strength = int(lab[3:]) if lab[3:].isdigit() else 1
                if neg:
                    sign = -sign
                d = "pos" if sign > 0 else "neg"
                labs.append("pol:" + d)
                labs.append(f"pol:{d}{strength}")
                net += sign * strength
            elif kind in ("touchpoints", "signals"):
                labs.append(("¬" if neg else "") + kind[:2] + ":" + lab)
        labs.append(f"net:{max(-4, min(4, net)):+d}")
        return clause_features(words, doc.norm[c.start:c.end], labs)

    def __call__(self, doc):
        index = self.vocab.index_
        for c in doc.clauses:
            c.x = np.fromiter({index[f] for f in self.clause_strings(doc, c) if f in index}, dtype=np.int32)
        return doc

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        self.vocab.to_disk(path / "vocab.txt")

    @classmethod
    def from_disk(cls, path: Path) -> "Featurizer":
        return cls(Vocabulary.from_disk(path / "vocab.txt"))


def as_bias(neutral_bias) -> Dict[str, float]:
    return dict(neutral_bias) if isinstance(neutral_bias, dict) else {"default": float(neutral_bias)}


def language_bias(bias: Dict[str, float], language: str) -> float:
    """A calibrated bias for a text's language (mixed texts use the Chinese one)."""
    return bias.get("zh" if language == "mixed" else language, bias.get("default", 0.0))


def clause_matrix(clauses: Sequence[Clause], n_features: int):
    """Stack the clauses' feature columns into one l2-normalised CSR matrix."""
    from scipy.sparse import csr_matrix

    lens = np.fromiter((len(c.x) for c in clauses), dtype=np.int64, count=len(clauses))
    indptr = np.zeros(len(clauses) + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    indices = np.concatenate([c.x for c in clauses]) if clauses else np.zeros(0, dtype=np.int32)
    w = 1.0 / np.sqrt(np.maximum(lens, 1)).astype(np.float32)
    data = np.repeat(w, lens)
    return csr_matrix((data, indices, indptr), shape=(len(clauses), n_features))


class SentimentClassifier(Component):
    """3-class sentiment per clause and per text.

    The text's probabilities blend a whole-text prediction (weight ``text_weight``) with
    the clauses' average, weighted by the peak-end rule: the strongest clause
    (``peak_weight``), the last one (``end_weight``) and contrast clauses
    (``contrast_weight``) count more. ``neutral_bias`` (per language, key ``default``
    for the rest) is added to the neutral probability before the label is chosen.
    """

    name = "sentiment"

    def __init__(self, head: LinearHead, neutral_bias=0.0, positive_bias=0.0, text_weight: float = 0.5,
                 end_weight: float = 0.5, contrast_weight: float = 0.5, peak_weight: float = 1.0):
        self.head = head
        self.neutral_bias = as_bias(neutral_bias)
        self.positive_bias = as_bias(positive_bias)
        self.text_weight = text_weight
        self.end_weight = end_weight
        self.contrast_weight = contrast_weight
        self.peak_weight = peak_weight

    def record(self, p: np.ndarray, language: str) -> dict:
        return sentiment_record(p, language_bias(self.neutral_bias, language),
                                language_bias(self.positive_bias, language))

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def pipe(self, docs):
        rows = []
        for d in docs:
            rows.extend(d.clauses)
            if d.clauses:
                whole = Clause(0, len(d.text))
                whole.x = np.unique(np.concatenate([c.x for c in d.clauses]))
                d.user_data["whole"] = whole
                rows.append(whole)
        if rows:
            P = self.head.predict_proba(clause_matrix(rows, self.head.coef_.shape[0]))
            for c, p in zip(rows, P):
                c.sentiment = p
        for d in docs:
            d.sentiment = self.record(self.probabilities(d), d.language) if d.clauses else \
                {"label": "neutral", "score": 0.0, "confidence": 0.0}
        return docs

    def probabilities(self, doc: Document) -> np.ndarray:
        p_clauses = self.aggregate(doc.clauses)
        whole = doc.user_data.get("whole")
        if whole is None or len(doc.clauses) == 1:
            return p_clauses if whole is None else whole.sentiment
        return self.text_weight * whole.sentiment + (1 - self.text_weight) * p_clauses

    def aggregate(self, clauses: Sequence[Clause]) -> np.ndarray:
        P = np.stack([c.sentiment for c in clauses])
        strength = np.abs(P[:, 2] - P[:, 0])
        w = 1.0 + self.peak_weight * (strength >= strength.max() - 1e-9) * strength
        w[-1] += self.end_weight
        w += self.contrast_weight * np.array([c.contrast for c in clauses], dtype=float)
        return (P * w[:, None]).sum(0) / w.sum()

    def config(self):
        return {"neutral_bias": self.neutral_bias, "positive_bias": self.positive_bias,
                "text_weight": self.text_weight, "end_weight": self.end_weight,
                "contrast_weight": self.contrast_weight, "peak_weight": self.peak_weight}

    def to_disk(self, path):
        self.head.to_disk(path)


class TouchpointClassifier(Component):
    """Which touchpoints each clause is about: a learned sigmoid head, with lexicon hits
    as strong evidence (noisy-or), each touchpoint's sentiment from its own clauses."""

    name = "touchpoints"

    def __init__(self, head: LinearHead, threshold: float = 0.5, lexicon_weight: float = 0.8,
                 thresholds: Dict[str, float] | None = None, lexicon_weights: Dict[str, float] | None = None,
                 neutral_bias=0.0, positive_bias=0.0):
        self.head = head
        self.threshold = threshold
        self.thresholds = thresholds or {}
        self.lexicon_weight = lexicon_weight
        self.lexicon_weights = lexicon_weights or {}
        self.neutral_bias = as_bias(neutral_bias)
        self.positive_bias = as_bias(positive_bias)

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def pipe(self, docs):
        clauses = [c for d in docs for c in d.clauses]
        labels = self.head.labels
        lw = np.array([self.lexicon_weights.get(lab, self.lexicon_weight) for lab in labels])
        th = np.array([self.thresholds.get(lab, self.threshold) for lab in labels])
        col = {lab: k for k, lab in enumerate(labels)}
        if clauses:
            Q = self.head.predict_proba(clause_matrix(clauses, self.head.coef_.shape[0]))
            for c, q in zip(clauses, Q):
                hit = np.zeros(len(labels))
                for m in c.matches:
                    if m[2] == "touchpoints" and m[3] in col:
                        hit[col[m[3]]] = 1.0
                c.user_q = q
                c.user_hit = hit
                s = 1 - (1 - q) * (1 - lw * hit)  # noisy-or: the model and the lexicon
                c.touchpoints = {labels[k]: float(s[k]) for k in np.flatnonzero(s >= th)}
        for d in docs:
            d.touchpoints = self.collect(d)
        return docs

    def collect(self, doc: Document) -> List[dict]:
        found: Dict[str, list] = {}
        for c in doc.clauses:
            for lab, s in c.touchpoints.items():
                found.setdefault(lab, []).append((c, s))
        out = []
        for lab, items in found.items():
            w = np.array([s for _, s in items])
            P = np.stack([c.sentiment for c, _ in items])
            p = (P * w[:, None]).sum(0) / w.sum()
            out.append({
                "id": lab,
                "confidence": round(float(w.max()), 4),
                "sentiment": sentiment_record(p, language_bias(self.neutral_bias, doc.language),
                                              language_bias(self.positive_bias, doc.language)),
                "evidence": evidence(doc, [c for c, _ in items], "touchpoints", lab),
            })
        out.sort(key=lambda t: -t["confidence"])
        return out

    def config(self):
        return {"threshold": self.threshold, "thresholds": self.thresholds, "lexicon_weight": self.lexicon_weight,
                "lexicon_weights": self.lexicon_weights, "neutral_bias": self.neutral_bias,
                "positive_bias": self.positive_bias}

    def to_disk(self, path):
        self.head.to_disk(path)


def evidence(doc: Document, clauses: Sequence[Clause], kind: str, label: str) -> List[dict]:
    """Evidence spans: the matched lexicon terms, else the whole clause."""
    spans = []
    for c in clauses:
        ms = [m for m in c.matches if m[2] == kind and m[3] == label]
        if ms:
            for i, j, *_ in ms:
                spans.append(doc.span(doc.tokens[i][1], doc.tokens[j - 1][2]))
        else:
            spans.append(doc.span(c.start, c.end))
    return _dedup(spans)


class ThemeTagger(Component):
    """CEM experience themes from their seed lexicons; sentiment from the clauses that hold
    the evidence. Confidence grows with the number of distinct supporting terms."""

    name = "themes"

    def __init__(self, base_confidence: float = 0.6, neutral_bias=0.0, positive_bias=0.0):
        self.base_confidence = base_confidence
        self.neutral_bias = as_bias(neutral_bias)
        self.positive_bias = as_bias(positive_bias)

    def __call__(self, doc):
        found: Dict[str, list] = {}
        for c in doc.clauses:
            for m in c.matches:
                if m[2] == "themes":
                    found.setdefault(m[3], []).append(c)
        out = []
        for lab, cls in found.items():
            uniq = list({id(c): c for c in cls}.values())
            n_terms = sum(1 for c in uniq for m in c.matches if m[2] == "themes" and m[3] == lab)
            conf = 1 - (1 - self.base_confidence) ** n_terms
            p = np.mean([c.sentiment for c in uniq], axis=0)
            out.append({"id": lab, "confidence": round(conf, 4),
                        "sentiment": sentiment_record(p, language_bias(self.neutral_bias, doc.language),
                                                      language_bias(self.positive_bias, doc.language)),
                        "evidence": evidence(doc, uniq, "themes", lab)})
        out.sort(key=lambda t: -t["confidence"])
        doc.themes = out
        return doc

    def config(self):
        return {"base_confidence": self.base_confidence, "neutral_bias": self.neutral_bias,
                "positive_bias": self.positive_bias}


# Which stage a touchpoint points to when no stage word is present.
STAGE_PRIORS = {
    "marketing": "awareness", "price": "consideration", "digital": "purchase", "delivery": "purchase",
    "billing": "purchase", "product": "usage", "service": "usage", "store": "usage", "location": "usage",
    "membership": "usage", "after_sales": "feedback", "customer_support": "feedback",
}


class StageClassifier(Component):
    """Journey stage: stage words vote with weight 1, touchpoints with ``prior_weight``;
    ``null`` when nothing points anywhere."""

    name = "stage"

    def __init__(self, prior_weight: float = 0.5):
        self.prior_weight = prior_weight

    def __call__(self, doc):
        votes: Dict[str, float] = {}
        for c in doc.clauses:
            for m in c.matches:
                if m[2] == "stages":
                    votes[m[3]] = votes.get(m[3], 0.0) + 1.0
        for t in doc.touchpoints:
            st = STAGE_PRIORS.get(t["id"])
            if st:
                votes[st] = votes.get(st, 0.0) + self.prior_weight * t["confidence"]
        if any(s["id"] == "complaint" for s in doc.signals) and "feedback" in votes:
            votes["feedback"] += 0.5
        if not votes:
            doc.stage = None
            return doc
        best = max(votes, key=lambda k: (votes[k], k))
        doc.stage = {"id": best, "confidence": round(votes[best] / sum(votes.values()), 4)}
        return doc

    def config(self):
        return {"prior_weight": self.prior_weight}


SIGNAL_ORDER = ("churn_risk", "escalation", "recommend", "complaint", "repurchase")


def read_patterns(path: Path) -> List[tuple]:
    """``signal<TAB>lang<TAB>regex`` rows (``#`` comments) → ``[(signal, lang, compiled)]``."""
    import re

    from .lexicon import read_rows

    out = []
    for n, (signal, lang, rx) in read_rows(path, "signal<TAB>lang<TAB>regex"):
        try:
            out.append((signal, lang, re.compile(rx)))
        except re.error as e:
            from .errors import E_MODEL_FILE, ModelError
            raise ModelError(f"{path}:{n}: bad regular expression: {e}", E_MODEL_FILE) from e
    return out


class SignalDetector(Component):
    """complaint, churn_risk, escalation, recommend and repurchase.

    Two sources of evidence, both data shipped in the model folder: the phrase lexicon
    (``lexicon/signals.tsv``) and regular-expression patterns (``signals/patterns.tsv``)
    run per clause on the normalized text. churn_risk is found first and a repurchase
    phrase inside a churn phrase, or after a negator ("never coming back"), is churn.
    ``complaint`` also fires on a clearly negative text with a negative touchpoint; a
    complaint phrase in a text that is positive overall does not count.
    """

    name = "signals"

    def __init__(self, patterns: Sequence[tuple] = (), complaint_threshold: float = 0.6):
        import re

        self.patterns = list(patterns)
        self.complaint_threshold = complaint_threshold
        # one alternation per signal, run once over the whole normalized text; every
        # pattern stops at clause punctuation by itself or is short enough not to cross it
        self._combined = []
        for sig in SIGNAL_ORDER:
            rxs = [p[2].pattern for p in self.patterns if p[0] == sig]
            if rxs:
                self._combined.append((sig, re.compile("|".join(f"(?:{r})" for r in rxs))))

    def __call__(self, doc):
        found: Dict[str, list] = {}
        churn_spans: List[tuple] = []
        text = doc.norm
        for sig, rx in self._combined:
            for m in rx.finditer(text):
                a, b = m.start(), m.end()
                if a == b:
                    continue
                if sig == "repurchase" and any(x <= a < y or x < b <= y for x, y in churn_spans):
                    continue
                if sig == "churn_risk":
                    churn_spans.append((a, b))
                found.setdefault(sig, []).append((a, b))
        for c in doc.clauses:
            for i, j, kind, lab, neg in c.matches:
                if kind != "signals":
                    continue
                a, b = doc.tokens[i][1], doc.tokens[j - 1][2]
                if lab == "complaint" and neg:
                    continue  # "no complaints", "没问题"
                if lab == "repurchase" and (neg or any(x <= a < y for x, y in churn_spans)):
                    lab = "churn_risk"
                found.setdefault(lab, []).append((a, b))
        out = []
        neg_p = _neg_prob(doc)
        positive = doc.sentiment is not None and doc.sentiment["label"] == "positive"
        for lab, spans in found.items():
            if lab == "complaint" and positive:
                continue
            conf = 0.6 + 0.4 * neg_p if lab == "complaint" else min(0.95, 0.8 + 0.05 * len(spans))
            out.append({"id": lab, "confidence": round(conf, 4), "evidence": _dedup([doc.span(a, b) for a, b in spans])})
        if "complaint" not in found and doc.sentiment and doc.sentiment["label"] == "negative" \
                and neg_p >= self.complaint_threshold:
            bad = [t for t in doc.touchpoints if t["sentiment"]["label"] == "negative"]
            if bad:
                out.append({"id": "complaint", "confidence": round(neg_p, 4), "evidence": bad[0]["evidence"][:3]})
        if any(s["id"] == "churn_risk" for s in out):
            out = [s for s in out if s["id"] != "repurchase"]
        out.sort(key=lambda s: -s["confidence"])
        doc.signals = out
        return doc

    def config(self):
        return {"complaint_threshold": self.complaint_threshold}

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        lines = ["# signal<TAB>lang<TAB>regex"] + [f"{s}\t{lang}\t{rx.pattern}" for s, lang, rx in self.patterns]
        (path / "patterns.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Path, **kw) -> "SignalDetector":
        f = path / "patterns.tsv"
        return cls(read_patterns(f) if f.exists() else (), **kw)


def _neg_prob(doc: Document) -> float:
    if not doc.sentiment:
        return 0.0
    s = doc.sentiment
    return s["confidence"] if s["label"] == "negative" else max(0.0, -s["score"])


def _dedup(spans):
    seen, out = set(), []
    for s in spans:
        if (s["start"], s["end"]) not in seen:
            seen.add((s["start"], s["end"]))
            out.append(s)
    return out


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
