"""The signals stage: complaint, churn risk, escalation, recommend, repurchase."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from .. import resources as R
from ..document import Document
from ..features import LinearHead
from .base import Component, _dedup, per_label


SIGNAL_ORDER = ("churn_risk", "escalation", "recommend_negative", "recommend", "complaint", "repurchase")

# rule hits that do not count (see SignalDetector.rule_signals)
_NUM_ONLY = re.compile(r"[\d.\s]+")
_NUM_LABEL = re.compile(r"(号码?|编号|单号|电话|手机|尾号|账号|卡号|工号|房号|快递|运单|订单|tel|phone|mobile|"
               r"order|ticket|case|ref|account|acct|no\.?|#)\s*[:：#]?\s*$", re.I)
_NUM_UNIT = re.compile(r"\s*(元|块|角|分钟|小时|天|次|个|件|号|克|斤|米|%|rmb|yuan|rmb)", re.I)
_ZH_NEG = re.compile(r"(不会|不打算|没打算|不准备|没准备|不想|没想过?|不至于|不用|不需要|没必要|不必|犯不着|"
            r"不去|没去|不找|没找|不打|没打|并不|暂时不|不再|没有要|不是要|没说要)"
            r"([^,.!?;:，。！？；：\s]{0,5})$")
_EN_NEG = re.compile(r"\b(not|never|won'?t|wont|will not|don'?t|dont|do not|didn'?t|didnt|did not|wouldn'?t|"
            r"would not|no plans? (?:to|of)|no intention (?:to|of)|have no plans? to)\b"
            r"((?:\s+[\w']+){0,4})\s*$", re.I)
_ZH_BLOCK = re.compile(r"就|只好|只能|已经|必须|才|肯定|一定|直接|但|所以|于是|只有|马上|立刻")
_EN_BLOCK = re.compile(r"\b(so|then|and|but|now|instead|i'?ll|i will|we'?ll|we will|gonna|going to (?:call|file|report|sue|switch|cancel))\b", re.I)
_COND = re.compile(r"(如果|要是|假如|若是|若|否则|不然|再这样|\bif\b|\bunless\b|\botherwise\b|\bor else\b|\buntil\b)", re.I)

# someone else recommended it to the writer: not the writer's recommendation (docs/annotation.md)
_OTHERS_RECOMMENDED = re.compile(r"(朋友|同事|别人|网友|家人|同学|闺蜜|室友|店员|服务员|老板|导购)(给我|向我|跟我|帮我)?推荐|"
                                 r"recommended (by|to me|to us)|\b(friend|friends|someone|somebody|he|she|they|"
                                 r"waiter|waitress|server|staff|colleague|coworker)\s+(had\s+|has\s+)?recommended", re.I)
# a recommend phrase from the lexicon that warns others off
_WARNS_OFF = re.compile(r"^(不|别|千万|大家别|大家不要|避雷|踩雷|慎|劝)|avoid|stay away|steer clear|don'?t|do not|"
                        r"save your money|warn", re.I)



def read_patterns(path: Path) -> List[tuple]:
    """``signal<TAB>lang<TAB>regex`` rows (``#`` comments) → ``[(signal, lang, compiled)]``."""
    import re

    from ..lexicon import read_rows

    out = []
    for n, (signal, lang, rx) in read_rows(path, "signal<TAB>lang<TAB>regex"):
        try:
            out.append((signal, lang, re.compile(rx)))
        except re.error as e:
            from ..errors import E_MODEL_FILE, ModelError
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

    With a learned ``head`` (sigmoid over the whole text; columns ``complaint``,
    ``churn_risk``, ``escalation``, ``recommend``, ``recommend_negative``, ``repurchase``) the
    rules above become evidence: a signal is found when the noisy-or of the head's probability
    and the rule hit (weighted per signal) reaches the signal's threshold, so a phrase under
    negation or a number that only looks like a hotline can be outvoted, and a signal with no
    phrase ("已经把话费转到移动了") can be found. ``recommend`` then carries a ``polarity``:
    ``negative`` when the text warns others off ("劝身边的朋友别来").
    """

    name = "signals"

    def __init__(self, patterns: Sequence[tuple] = (), complaint_threshold: float = 0.6,
                 labels: Sequence[str] | None = None, head: Optional[LinearHead] = None, threshold: float = 0.5,
                 thresholds: Dict[str, float] | None = None, lexicon_weight: float = 0.5,
                 lexicon_weights: Dict[str, float] | None = None):
        import re

        self.head = head
        self.threshold = threshold
        self.thresholds = thresholds or {}
        self.lexicon_weight = lexicon_weight
        self.lexicon_weights = lexicon_weights or {}
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
        return self.pipe([doc])[0]

    def pipe(self, docs):
        found = [self.rule_signals(d) for d in docs]
        if self.head is None:
            for d, f in zip(docs, found):
                recs = {}
                for lab, (conf, ev) in f.items():
                    sig = "recommend" if lab == "recommend_negative" else lab
                    rec = {"id": sig, "confidence": round(conf, 4), "evidence": ev}
                    if sig == "recommend":
                        rec["polarity"] = "negative" if lab == "recommend_negative" else "positive"
                    if sig not in recs or recs[sig]["confidence"] < rec["confidence"]:
                        recs[sig] = rec
                d.signals = self._finish(list(recs.values()))
            return docs
        scored = [i for i, d in enumerate(docs) if d.whole is not None]
        S = self.scores([docs[i] for i in scored], [found[i] for i in scored]) if scored else None
        th = per_label(self.thresholds, self.threshold, self.head.labels)
        for d in docs:
            d.signals = []
        for r, i in enumerate(scored):
            d, f, out = docs[i], found[i], {}
            for k in np.flatnonzero(S[r] >= th):
                lab = self.head.labels[k]
                sig = "recommend" if lab == "recommend_negative" else lab
                ev = f.get(lab, (0, None))[1] or f.get(sig, (0, None))[1] or self._clause_evidence(d, lab)
                rec = {"id": sig, "confidence": round(float(S[r, k]), 4), "evidence": ev}
                if sig == "recommend":
                    rec["polarity"] = "negative" if lab == "recommend_negative" else "positive"
                    if sig in out and out[sig]["confidence"] >= rec["confidence"]:
                        continue
                out[sig] = rec
            d.signals = self._finish(list(out.values()))
        return docs

    def scores(self, docs: Sequence[Document], found: Sequence[dict]) -> np.ndarray:
        """``(docs, head labels)``: each document's score per signal, the noisy-or of the head
        on the whole text and the rules' hits (``found``: :meth:`rule_signals` per document)."""
        from .features import clause_matrix
        from .touchpoints import touchpoint_score

        Q = self.head.predict_proba(clause_matrix([d.whole for d in docs], self.head.coef_.shape[0]))
        H = np.array([[1.0 if lab in f else 0.0 for lab in self.head.labels] for f in found]
                     ).reshape(len(docs), len(self.head.labels))
        lw = per_label(self.lexicon_weights, self.lexicon_weight, self.head.labels)
        return touchpoint_score(Q, H, lw)

    def _clause_evidence(self, doc: Document, lab: str) -> List[dict]:
        """A learned signal without a rule hit: its evidence is the text's most negative
        clause for the negative signals, the most positive one for the others."""
        if not doc.clauses:
            return []
        sign = 1 if lab in ("recommend", "repurchase") else -1
        best = max(doc.clauses, key=lambda c: sign * (c.sentiment[2] - c.sentiment[0]) if c.sentiment is not None
                   else 0.0)
        return [doc.span(best.start, best.end)]

    def _finish(self, out: List[dict]) -> List[dict]:
        if any(s["id"] == "churn_risk" for s in out):
            out = [s for s in out if s["id"] != "repurchase"]
        if self.labels is not None:
            out = [s for s in out if s["id"] in self.labels]
        out.sort(key=lambda s: -s["confidence"])
        return out

    def rule_signals(self, doc: Document) -> Dict[str, tuple]:
        """``{signal: (confidence, evidence spans)}`` from the phrase lexicon and the patterns.

        Two kinds of hit are dropped (docs/annotation.md 9.4): an escalation hit that is only
        a number inside another number or an order / phone / ticket number ("订单号4512315890",
        "Order 5512315", "315元"), and an escalation or churn hit that a negator right before
        it in the same clause cancels ("我不会去12315投诉", "I won't be switching carriers")
        unless the negator sits in a condition ("要是不退款就去12315", "if you don't fix it
        I'm cancelling my account")."""
        text = doc.norm
        def clause_before(a: int) -> str:
            lo = max(0, a - 60)
            seg = text[lo:a]
            cut = max(seg.rfind(ch) for ch in ",.!?;:，。！？；：")
            return seg[cut + 1:] if cut >= 0 else seg

        def number_only(a: int, b: int) -> bool:
            if not _NUM_ONLY.fullmatch(text[a:b]):
                return False
            if (a > 0 and (text[a - 1].isdigit() or text[a - 1].isascii() and text[a - 1].isalpha())) or \
                    (b < len(text) and (text[b].isdigit() or text[b].isascii() and text[b].isalpha())):
                return True
            return bool(_NUM_LABEL.search(text[max(0, a - 8):a]) or _NUM_UNIT.match(text, b))

        def negated(a: int) -> bool:
            before = clause_before(a)
            for rx, block in ((_ZH_NEG, _ZH_BLOCK), (_EN_NEG, _EN_BLOCK)):
                m = rx.search(before)
                if m and not block.search(m.group(2)) and not _COND.search(before[:m.start()]):
                    return True
            return False

        found: Dict[str, list] = {}
        churn_spans: List[tuple] = []
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
                if sig == "escalation" and number_only(a, b):
                    continue
                if sig in ("escalation", "churn_risk") and negated(a):
                    continue
                if sig == "repurchase" and any(x <= a < y or x < b <= y for x, y in churn_spans):
                    continue
                if sig == "recommend" and (_overlap(found.get("recommend_negative", ()), a, b)
                                           or _others_recommended(text, a, b)):
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
                if lab == "escalation" and (number_only(a, b) or negated(a)):
                    continue
                if lab == "churn_risk" and negated(a):
                    continue
                if lab == "repurchase" and (neg or any(x <= a < y for x, y in churn_spans)):
                    lab = "churn_risk"
                if lab == "recommend":
                    if neg or _WARNS_OFF.search(text[a:b]):
                        lab = "recommend_negative"  # "不推荐", "avoid", "never recommend"
                    elif _others_recommended(text, a, b) or _overlap(found.get("recommend_negative", ()), a, b):
                        continue
                found.setdefault(lab, []).append((a, b))
        out: Dict[str, tuple] = {}
        neg_p = _neg_prob(doc)
        positive = doc.sentiment is not None and doc.sentiment["label"] == "positive"
        for lab, spans in found.items():
            if lab == "complaint" and positive:
                continue
            conf = 0.6 + 0.4 * neg_p if lab == "complaint" else min(0.95, 0.8 + 0.05 * len(spans))
            out[lab] = (conf, _dedup([doc.span(a, b) for a, b in spans]))
        if "complaint" not in found and doc.sentiment and doc.sentiment["label"] == "negative" \
                and neg_p >= self.complaint_threshold:
            bad = [t for t in doc.touchpoints if t["sentiment"]["label"] == "negative"]
            if bad:
                out["complaint"] = (neg_p, bad[0]["evidence"][:3])
        return out

    def config(self):
        cfg = {"complaint_threshold": self.complaint_threshold}
        if self.labels is not None:
            cfg["labels"] = self.labels
        if self.head is not None:
            cfg.update(threshold=self.threshold, thresholds=self.thresholds, lexicon_weight=self.lexicon_weight,
                       lexicon_weights=self.lexicon_weights)
        return cfg

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        if self.head is not None:
            self.head.to_disk(path / "head")
        lines = ["# signal<TAB>lang<TAB>regex"] + [f"{s}\t{lang}\t{rx.pattern}" for s, lang, rx in self.patterns]
        (path / "patterns.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Path, **kw) -> "SignalDetector":
        f = path / "patterns.tsv"
        head = LinearHead.from_disk(path / "head") if (path / "head" / "head.json").exists() else None
        return cls(read_patterns(f) if f.exists() else (), head=head, **kw)


def _neg_prob(doc: Document) -> float:
    if not doc.sentiment:
        return 0.0
    s = doc.sentiment
    return s["confidence"] if s["label"] == "negative" else max(0.0, -s["score"])


def _overlap(spans, a: int, b: int) -> bool:
    return any(x < b and a < y for x, y in spans)


def _others_recommended(text: str, a: int, b: int) -> bool:
    """Whether the recommendation at ``text[a:b]`` is someone else's, made to the writer."""
    return any(m.start() < b and a < m.end() for m in _OTHERS_RECOMMENDED.finditer(text, max(0, a - 12), b + 12))
