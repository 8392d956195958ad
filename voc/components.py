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

    def __init__(self, lexicons: Dict[str, Lexicon], rules: Sequence[tuple] = ()):
        """``rules``: ``(kind, label, regex)`` matched on each clause's normalised text (custom
        taxonomies' ``rules:``); a match counts like a lexicon hit over the tokens it covers."""
        import re

        self.lexicons = lexicons
        self.rules = [(k, lab, rx) for k, lab, rx in rules]
        self._rules = [(k, lab, re.compile(rx)) for k, lab, rx in self.rules]
        # one combined table: a single longest-match pass per clause serves every lexicon
        self._combined = Lexicon([(f"{kind}\t{lab}", lang, term) for kind, lex in lexicons.items()
                                  for lab, lang, term in lex.rows])

    def __call__(self, doc):
        for c in doc.clauses:
            words = [w for w, _, _ in doc.tokens[c.tok_start:c.tok_end]]
            breaks = c.breaks = scope_breaks(doc, c)
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
                ms.append((c.tok_start + i, c.tok_start + j, kind, label, _negated(words, i, breaks)))
            if self._rules:
                ms.extend(self._rule_matches(doc, c, words, breaks))
            ms.sort()
            c.matches = ms
        return doc

    def _rule_matches(self, doc: Document, c: Clause, words, breaks) -> List[tuple]:
        out = []
        toks = doc.tokens
        text = doc.norm[c.start:c.end]
        for kind, label, rx in self._rules:
            for m in rx.finditer(text):
                a, b = c.start + m.start(), c.start + m.end()
                if a == b:
                    continue
                span = [t for t in range(c.tok_start, c.tok_end) if toks[t][2] > a and toks[t][1] < b]
                if span:
                    out.append((span[0], span[-1] + 1, kind, label, _negated(words, span[0] - c.tok_start, breaks)))
        return out

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        for kind, lex in self.lexicons.items():
            lex.to_tsv(path / f"{kind}.tsv")
        if self.rules:
            lines = ["# kind<TAB>label<TAB>regex"] + ["\t".join(r) for r in self.rules]
            (path / "rules.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Path) -> "LexiconTagger":
        from .lexicon import read_rows

        rules = [tuple(r) for _, r in read_rows(path / "rules.tsv", "kind<TAB>label<TAB>regex")] \
            if (path / "rules.tsv").exists() else []
        return cls({k: Lexicon.from_tsv(path / f"{k}.tsv") for k in LEXICON_KINDS if (path / f"{k}.tsv").exists()},
                   rules)


def scope_breaks(doc: Document, c: Clause) -> List[bool]:
    """Per token of clause ``c``: whether punctuation stands between it and the token before
    (a merged clause can hold a comma; negation does not reach across it)."""
    toks, norm = doc.tokens, doc.norm
    out = [False]
    for t in range(c.tok_start + 1, c.tok_end):
        a, b = toks[t - 1][2], toks[t][1]
        out.append(b > a and R.SCOPE_BREAK_RE.search(norm, a, b) is not None)
    return out


def _negated(words: Sequence[str], i: int, breaks: Sequence[bool] = ()) -> bool:
    """Whether word ``i`` of a clause lies in the scope of a negator before it, with no
    punctuation between them (``breaks``, from :func:`scope_breaks`)."""
    lo = max(0, i - R.MAX_NEGATION_WINDOW)
    for k in range(i - 1, lo - 1, -1):
        if breaks and breaks[k + 1]:
            return False
        w = words[k]
        if (w in R.ZH_NEGATORS or w in R.EN_NEGATORS or w.endswith("n't")) and i - k <= R.negation_window(w):
            if k + 1 < len(words) and words[k + 1] in R.NEGATION_BREAKERS:
                continue  # "can't wait to come back", "won't stop going back"
            return True
    return False


class Featurizer(Component):
    """Turn each clause (and the whole text) into feature columns of the shared vocabulary.

    With an ``encoder`` (a transformer backbone, :mod:`voc.backbone`) each clause also gets
    an embedding (a unit of several clauses takes their normalised mean, :func:`merge_clauses`).
    """

    name = "features"

    def __init__(self, vocab: Vocabulary, encoder=None, backbone: dict | None = None):
        self.vocab = vocab
        self.encoder = encoder
        self.backbone = backbone  # {"spec": "minilm" | path, "finetuned": bool, ...} or None

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
        breaks = c.breaks if c.breaks is not None else scope_breaks(doc, c)  # set by the lexicon stage
        return clause_features(words, doc.norm[c.start:c.end], labs, breaks)

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def pipe(self, docs):
        index = self.vocab.index_
        for doc in docs:
            for c in doc.clauses:
                c.x = np.fromiter({index[f] for f in self.clause_strings(doc, c) if f in index}, dtype=np.int32)
        if self.encoder is not None:
            self.embed(docs)
        return docs

    def embed(self, docs: Sequence[Document]) -> None:
        clauses = [(d, c) for d in docs for c in d.clauses]
        E = self.encoder.encode([d.norm[c.start:c.end] for d, c in clauses])
        for (_, c), e in zip(clauses, E):
            c.emb = e

    def config(self):
        return {"backbone": self.backbone} if self.backbone else {}

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        self.vocab.to_disk(path / "vocab.txt")

    @classmethod
    def from_disk(cls, path: Path, backbone: dict | None = None) -> "Featurizer":
        encoder = None
        if backbone:
            from .backbone import Encoder, resolve_backbone

            from .errors import ModelError

            local = path / "backbone"
            try:
                where = local if backbone.get("finetuned") else resolve_backbone(backbone["spec"])
            except ModelError as e:
                raise ModelError(f"This model was trained on the backbone {backbone['spec']!r}, which is not "
                                 f"available here: {e.message} Put the checkpoint back at that path, or edit "
                                 f"'backbone.spec' in {path.parent / 'config.json'} to where it is now.",
                                 e.code) from e
            encoder = Encoder(str(where), max_length=backbone.get("max_length", 128),
                              pooling=backbone.get("pooling", "mean"))
        return cls(Vocabulary.from_disk(path / "vocab.txt"), encoder, backbone)


def as_bias(neutral_bias) -> Dict[str, float]:
    return dict(neutral_bias) if isinstance(neutral_bias, dict) else {"default": float(neutral_bias)}


def language_bias(bias: Dict[str, float], language: str) -> float:
    """A calibrated bias for a text's language (mixed texts use the Chinese one)."""
    return bias.get("zh" if language == "mixed" else language, bias.get("default", 0.0))


def clause_matrix(clauses: Sequence[Clause], n_features: int):
    """Stack the clauses' feature columns into one l2-normalised CSR matrix.

    With a transformer backbone each clause also has an embedding (``c.emb``); it fills
    the last ``dim`` of the ``n_features`` columns.
    """
    from scipy.sparse import csr_matrix, hstack

    dim = len(clauses[0].emb) if clauses and clauses[0].emb is not None else 0
    if dim:
        sparse = clause_matrix_sparse(clauses, n_features - dim)
        dense = np.stack([c.emb for c in clauses]).astype(np.float32)
        return hstack([sparse, csr_matrix(dense)], format="csr")
    return clause_matrix_sparse(clauses, n_features)


def clause_matrix_sparse(clauses: Sequence[Clause], n_features: int):
    from scipy.sparse import csr_matrix

    lens = np.fromiter((len(c.x) for c in clauses), dtype=np.int64, count=len(clauses))
    indptr = np.zeros(len(clauses) + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    indices = np.concatenate([c.x for c in clauses]) if clauses else np.zeros(0, dtype=np.int32)
    w = 1.0 / np.sqrt(np.maximum(lens, 1)).astype(np.float32)
    data = np.repeat(w, lens)
    return csr_matrix((data, indices, indptr), shape=(len(clauses), n_features))


def merge_clauses(clauses: Sequence[Clause], start: int | None = None, end: int | None = None) -> Clause:
    """One unit over several clauses (a whole text, a touchpoint's evidence): the union of their
    feature columns and, with a backbone, the normalised mean of their embeddings."""
    u = Clause(clauses[0].start if start is None else start, clauses[-1].end if end is None else end)
    u.x = np.unique(np.concatenate([c.x for c in clauses]))
    if clauses[0].emb is not None:
        m = np.mean([c.emb for c in clauses], axis=0)
        u.emb = (m / max(float(np.linalg.norm(m)), 1e-9)).astype(np.float32)
    return u


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
                whole = merge_clauses(d.clauses, 0, len(d.text))
                d.user_data["whole"] = whole
                rows.append(whole)
        probs = {}
        if rows:
            P = self.head.predict_proba(clause_matrix(rows, self.head.coef_.shape[0]))
            for c, p in zip(rows, P):
                c.sentiment = p
            probs = self._batch_probabilities([d for d in docs if d.clauses], P)
        for d in docs:
            d.sentiment = self.record(probs[id(d)], d.language) if d.clauses else \
                {"label": "neutral", "score": 0.0, "confidence": 0.0}
        return docs

    def _batch_probabilities(self, docs: Sequence[Document], P: np.ndarray,
                             text_weight: float | None = None) -> Dict[int, np.ndarray]:
        """The text's probabilities for a whole batch at once (``P``: each document's clause
        rows followed by its whole-text row, in order)."""
        tw = self.text_weight if text_weight is None else text_weight
        n = np.fromiter((len(d.clauses) for d in docs), dtype=np.int64, count=len(docs))
        whole_at = np.cumsum(n + 1) - 1
        clause_rows = np.ones(len(P), dtype=bool)
        clause_rows[whole_at] = False
        Pc, Pw = P[clause_rows], P[whole_at]
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        doc_of = np.repeat(np.arange(len(docs)), n)
        strength = np.abs(Pc[:, 2] - Pc[:, 0])
        peak = np.maximum.reduceat(strength, starts)
        w = 1.0 + self.peak_weight * (strength >= peak[doc_of] - 1e-9) * strength
        w[starts + n - 1] += self.end_weight
        w += self.contrast_weight * np.fromiter((c.contrast for d in docs for c in d.clauses), dtype=float,
                                                count=len(Pc))
        agg = np.add.reduceat(Pc * w[:, None], starts) / np.add.reduceat(w, starts)[:, None]
        out = np.where((n == 1)[:, None], Pw, tw * Pw + (1 - tw) * agg)
        return {id(d): p for d, p in zip(docs, out)}

    def probabilities(self, doc: Document) -> np.ndarray:
        """One analysed document's text probabilities (used to calibrate the weights)."""
        clause_ps = [c.sentiment for c in doc.clauses]
        whole = doc.user_data.get("whole")
        if whole is None:  # no whole-text row: the peak-end average of the clauses alone
            return self._batch_probabilities([doc], np.stack(clause_ps + clause_ps[:1]), text_weight=0.0)[id(doc)]
        return self._batch_probabilities([doc], np.stack(clause_ps + [whole.sentiment]))[id(doc)]

    def config(self):
        return {"neutral_bias": self.neutral_bias, "positive_bias": self.positive_bias,
                "text_weight": self.text_weight, "end_weight": self.end_weight,
                "contrast_weight": self.contrast_weight, "peak_weight": self.peak_weight}

    def to_disk(self, path):
        self.head.to_disk(path)


class TouchpointClassifier(Component):
    """Which touchpoints each clause is about: a learned sigmoid head, with lexicon hits
    as strong evidence (noisy-or), each touchpoint's sentiment from its own clauses.

    ``text_level``: a touchpoint is also found when the whole text scores above its
    threshold (models trained on text-level labels by ``voc train``); its evidence is then
    the clause that scores highest for it. ``polarity_head`` (3-class, optional) gives each
    touchpoint's sentiment from the features of its evidence clauses; without it the
    clauses' sentiment is averaged. ``parents`` (child → parent id) is reported on each
    touchpoint of a two-level taxonomy.
    """

    name = "touchpoints"

    def __init__(self, head: LinearHead, threshold: float = 0.5, lexicon_weight: float = 0.8,
                 thresholds: Dict[str, float] | None = None, lexicon_weights: Dict[str, float] | None = None,
                 neutral_bias=0.0, positive_bias=0.0, text_level: bool = False,
                 polarity_head: LinearHead | None = None, parents: Dict[str, str] | None = None,
                 clause_level: bool = True):
        self.head = head
        self.threshold = threshold
        self.thresholds = thresholds or {}
        self.lexicon_weight = lexicon_weight
        self.lexicon_weights = lexicon_weights or {}
        self.neutral_bias = as_bias(neutral_bias)
        self.positive_bias = as_bias(positive_bias)
        self.text_level = text_level
        self.polarity_head = polarity_head
        self.parents = parents or {}
        self.clause_level = clause_level  # False (text_level only): the whole text decides, clauses give evidence

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def _weights(self):
        labels = self.head.labels
        lw = np.array([self.lexicon_weights.get(lab, self.lexicon_weight) for lab in labels])
        th = np.array([self.thresholds.get(lab, self.threshold) for lab in labels])
        return lw, th

    def score_clauses(self, clauses: Sequence[Clause], lw: np.ndarray, th: np.ndarray) -> None:
        """Set each clause's model probabilities (``user_q``), lexicon hits (``user_hit``) and
        the touchpoints it passes the threshold for, all clauses in one matrix product."""
        if not clauses:
            return
        labels = self.head.labels
        Q = self.head.predict_proba(clause_matrix(clauses, self.head.coef_.shape[0]))
        H = self.lexicon_hits(clauses)
        S = 1 - (1 - Q) * (1 - lw * H)  # noisy-or: the model and the lexicon
        rows, ks = np.nonzero(S >= th)
        for c, q, hit in zip(clauses, Q, H):
            c.user_q, c.user_hit, c.touchpoints = q, hit, {}
        for r, k in zip(rows.tolist(), ks.tolist()):
            clauses[r].touchpoints[labels[k]] = float(S[r, k])

    def lexicon_hits(self, clauses: Sequence[Clause]) -> np.ndarray:
        """``(clauses, labels)`` matrix: 1 where a seed term of the label occurs in the clause."""
        col = {lab: k for k, lab in enumerate(self.head.labels)}
        H = np.zeros((len(clauses), len(col)))
        for r, c in enumerate(clauses):
            for m in c.matches:
                if m[2] == "touchpoints" and m[3] in col:
                    H[r, col[m[3]]] = 1.0
        return H

    def evidence_clauses(self, doc: Document, label: str) -> List[Clause]:
        """The clauses that speak for ``label``: those over its threshold, else the one the
        model scores highest for it."""
        cls = [c for c in doc.clauses if label in c.touchpoints]
        if cls:
            return cls
        k = self.head.labels.index(label)
        return [max(doc.clauses, key=lambda c: c.user_q[k])]

    def pipe(self, docs):
        lw, th = self._weights()
        self.score_clauses([c for d in docs for c in d.clauses], lw, th)
        if self.text_level:
            wholes = [d for d in docs if d.user_data.get("whole") is not None]
            if wholes:
                Qw = self.head.predict_proba(clause_matrix([d.user_data["whole"] for d in wholes],
                                                           self.head.coef_.shape[0]))
                for d, q in zip(wholes, Qw):
                    d.user_data["whole_q"] = q
        for d, (items, pol) in zip(docs, zip(*self.found(docs, lw, th))):
            d.touchpoints = [self.record(d, lab, conf, cls, p) for (lab, conf, cls), p in zip(items, pol)]
            d.touchpoints.sort(key=lambda t: -t["confidence"])
        return docs

    def found(self, docs, lw: np.ndarray, th: np.ndarray):
        """Per document of scored clauses, the touchpoints found (``[(label, confidence,
        evidence clauses)]``) and their sentiment probabilities, in the same order."""
        found = [self.roll_up(self.detect(d, lw, th)) for d in docs]
        return found, self.polarities(docs, found)

    def detect(self, doc: Document, lw: np.ndarray, th: np.ndarray) -> List[tuple]:
        """``[(label, confidence, evidence clauses)]`` for one document."""
        found: Dict[str, list] = {}
        for c in doc.clauses:
            for lab, s in c.touchpoints.items():
                found.setdefault(lab, []).append((c, s))
        q = doc.user_data.get("whole_q")
        if q is None or not doc.clauses:
            return [(lab, max(s for _, s in items), [c for c, _ in items]) for lab, items in found.items()]
        labels = self.head.labels
        hit = np.max([c.user_hit for c in doc.clauses], axis=0)
        s = 1 - (1 - q) * (1 - lw * hit)
        out = []
        if self.clause_level:
            out = [(lab, max(max(v for _, v in items), float(s[labels.index(lab)])), [c for c, _ in items])
                   for lab, items in found.items()]
        for k in np.flatnonzero(s >= th):
            lab = labels[k]
            if lab in found and self.clause_level:
                continue
            out.append((lab, float(s[k]), self.evidence_clauses(doc, lab)))
        return out

    def roll_up(self, items: List[tuple]) -> List[tuple]:
        """A sub-category found means its category is found too (two-level taxonomies)."""
        if not self.parents:
            return items
        have = {lab for lab, _, _ in items}
        extra: Dict[str, list] = {}
        for lab, conf, cls in items:
            par = self.parents.get(lab)
            if par and par not in have:
                e = extra.setdefault(par, [0.0, []])
                e[0] = max(e[0], conf)
                e[1].extend(c for c in cls if all(c is not x for x in e[1]))
        return items + [(par, conf, sorted(cls, key=lambda c: c.start)) for par, (conf, cls) in extra.items()]

    def polarities(self, docs, found) -> List[List[np.ndarray]]:
        """Sentiment probabilities for every found touchpoint, one matrix product in all."""
        if self.polarity_head is None:
            return [[_mean_sentiment(cls, [c.touchpoints.get(lab, conf) for c in cls]) for lab, conf, cls in items]
                    for items in found]
        units = [merge_clauses(cls) for items in found for _, _, cls in items]
        P = self.polarity_head.predict_proba(clause_matrix(units, self.polarity_head.coef_.shape[0])) if units \
            else np.zeros((0, 3))
        out, k = [], 0
        for items in found:
            out.append(list(P[k:k + len(items)]))
            k += len(items)
        return out

    def record(self, doc: Document, lab: str, conf: float, clauses, p: np.ndarray) -> dict:
        rec = {
            "id": lab,
            "confidence": round(float(conf), 4),
            "sentiment": sentiment_record(p, language_bias(self.neutral_bias, doc.language),
                                          language_bias(self.positive_bias, doc.language)),
            "evidence": evidence(doc, clauses, "touchpoints", lab),
        }
        if lab in self.parents:
            rec["parent"] = self.parents[lab]
        return rec

    def config(self):
        cfg = {"threshold": self.threshold, "thresholds": self.thresholds, "lexicon_weight": self.lexicon_weight,
               "lexicon_weights": self.lexicon_weights, "neutral_bias": self.neutral_bias,
               "positive_bias": self.positive_bias}
        if self.text_level:
            cfg["text_level"] = True
        if not self.clause_level:
            cfg["clause_level"] = False
        if self.parents:
            cfg["parents"] = self.parents
        return cfg

    def to_disk(self, path):
        self.head.to_disk(path)
        if self.polarity_head is not None:
            self.polarity_head.to_disk(path / "polarity")

    @classmethod
    def from_disk(cls, path: Path, **kw) -> "TouchpointClassifier":
        pol = LinearHead.from_disk(path / "polarity") if (path / "polarity" / "head.json").exists() else None
        return cls(LinearHead.from_disk(path), polarity_head=pol, **kw)


def _mean_sentiment(clauses, weights) -> np.ndarray:
    w = np.maximum(np.asarray(weights, dtype=float), 1e-6)
    P = np.stack([c.sentiment for c in clauses])
    return (P * w[:, None]).sum(0) / w.sum()


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
    spans = _dedup(spans)
    # a seed term inside a rule's match ("delayed" in "delayed 3 hours"): keep the longer span
    return [s for s in spans if not any(o is not s and o["start"] <= s["start"] and s["end"] <= o["end"]
                                        for o in spans)]


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

    def __init__(self, prior_weight: float = 0.5, priors: Dict[str, str] | None = None):
        self.prior_weight = prior_weight
        self.priors = dict(STAGE_PRIORS) if priors is None else dict(priors)

    def __call__(self, doc):
        votes: Dict[str, float] = {}
        for c in doc.clauses:
            for m in c.matches:
                if m[2] == "stages":
                    votes[m[3]] = votes.get(m[3], 0.0) + 1.0
        for t in doc.touchpoints:
            st = self.priors.get(t["id"])
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
        cfg = {"prior_weight": self.prior_weight}
        if self.priors != STAGE_PRIORS:
            cfg["priors"] = self.priors
        return cfg


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

    def __init__(self, patterns: Sequence[tuple] = (), complaint_threshold: float = 0.6,
                 labels: Sequence[str] | None = None):
        import re

        self.patterns = list(patterns)
        self.complaint_threshold = complaint_threshold
        self.labels = list(labels) if labels is not None else None  # the taxonomy's signals; None: all
        # one alternation per signal and script, run once over the whole normalized text;
        # every pattern stops at clause punctuation by itself or is short enough not to cross
        # it. Chinese patterns need a Han character or a digit (12315) to match, English ones
        # a Latin letter, so a text without any skips them (a third of the time on short posts).
        self._combined = []
        order = list(SIGNAL_ORDER) + sorted({p[0] for p in self.patterns} - set(SIGNAL_ORDER))
        for sig in order:
            parts = []
            for script, langs in (("zh", ("zh",)), ("en", ("en",)), ("any", None)):
                rxs = [p[2].pattern for p in self.patterns if p[0] == sig
                       and (p[1] in langs if langs else p[1] not in ("zh", "en"))]
                if rxs:
                    parts.append((script, re.compile("|".join(f"(?:{r})" for r in rxs))))
            if parts:
                self._combined.append((sig, parts))

    def __call__(self, doc):
        found: Dict[str, list] = {}
        churn_spans: List[tuple] = []
        text = doc.norm
        scripts = {"any"}
        if R.CJK_OR_DIGIT_RE.search(text):
            scripts.add("zh")
        if R.LATIN_RE.search(text):
            scripts.add("en")
        for sig, parts in self._combined:
            for m in (m for script, rx in parts if script in scripts for m in rx.finditer(text)):
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
        if self.labels is not None:
            out = [s for s in out if s["id"] in self.labels]
        out.sort(key=lambda s: -s["confidence"])
        doc.signals = out
        return doc

    def config(self):
        cfg = {"complaint_threshold": self.complaint_threshold}
        if self.labels is not None:
            cfg["labels"] = self.labels
        return cfg

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
