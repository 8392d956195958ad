"""The annotation corpus labelled by helper agents (issue 12): sample, import, agree.

    python -m training.annotation sample --out /work/annot/batches --n 13000 --batch-size 250 --seed 0
    python -m training.annotation import --raw RAW.jsonl --out data/annotations/NAME.jsonl --batches DIR
    python -m training.annotation agree A.jsonl B.jsonl [--json]

``sample`` draws a stratified, deterministic sample from the shared corpora and writes it in
batches of ``{"corpus", "id", "lang", "text"}`` lines, **outside** the repository (the texts
never enter it). Every text whose :func:`text_hash` equals that of a gold row
(``data/gold/*.jsonl``) or dev row (``data/dev/*.jsonl``) is left out, and so is every text
that contains, or is contained in, a held-out text of 20+ characters (a SemEval sentence of
a gold review). Review-like corpora draw 30% of their quota from "hard" texts (a contrast
marker, or seed terms of two or more touchpoints, which covers the short clause pairs), the
rest from all texts, so hard texts are over-sampled, never under-sampled.

``import`` checks an annotator's raw output (one JSON line per text; format and rules in
``docs/annotation.md``) against the taxonomy ids, turns each evidence quote into
``[start, end]`` code-point offsets into the text, and writes the stored form: references,
labels and offsets, never the text or the quotes. Invalid rows go to ``RAW.rejects.jsonl``
next to the raw file, each with its reasons.

``agree`` compares two stored annotation files on their common ``(corpus, id)`` rows:
Cohen's kappa for sentiment and stage, micro-F1 for touchpoints, touchpoint+polarity pairs,
themes and signals.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from training import corpora
from voc.clauses import split_clauses
from voc.lexicon import read_tsv
from voc.normalize import lowercase, make_step, nfkc

REPO = Path(__file__).resolve().parents[1]
TAXONOMY = REPO / "data" / "taxonomy.yaml"
HELDOUT_GLOBS = ("data/gold/*.jsonl", "data/dev/*.jsonl")

SENTIMENTS = ("positive", "neutral", "negative")
POLARITIES = ("positive", "neutral", "negative")
LANGS = ("zh", "en", "mixed", "other")
RECOMMEND_POLARITIES = ("positive", "negative")

MIN_CHARS, MAX_CHARS = 4, 600
HARD_SHARE = 0.3
CONTAINED_MIN_CHARS = 20  # shorter held-out texts ("服务很好") are too generic to mean a leak


# ------------------------------------------------------------------------------ hashing
_T2S = make_step("traditional_to_simplified")


def fold(text: str) -> str:
    """NFKC, lower case and Traditional→Simplified, one code point for one: ``len`` is kept."""
    return _T2S(lowercase(nfkc(text)))


def hash_form(text: str) -> str:
    """The text as hashed: :func:`fold`, then every whitespace character removed."""
    return "".join(fold(text).split())


def text_hash(text: str) -> str:
    """Dedupe key of a text: the first 16 hex digits of the SHA-1 of :func:`hash_form`.

    ``"服務很好 !"``, ``"服务很好!"`` and ``"服务很好！"`` share one hash.
    """
    return hashlib.sha1(hash_form(text).encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------------------ held-out rows
def heldout_refs(repo: Path = REPO, globs: Sequence[str] = HELDOUT_GLOBS) -> List[Tuple[str, str]]:
    """``(corpus, id)`` of every row of the reference files ``globs`` (default: gold and dev), in file order."""
    refs = []
    for pattern in globs:
        for path in sorted(repo.glob(pattern)):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    d = json.loads(line)
                    refs.append((d["corpus"], str(d["id"])))
    return refs


class HeldOut:
    """Texts the annotation sample must never contain: equal hash, or containment either way.

    Containment is looked up through 8-character grams, so a check costs one pass over the
    candidate, not one pass over every held-out text.
    """

    GRAM = 8

    def __init__(self, texts: Iterable[str]):
        forms = {hash_form(t) for t in texts}
        self.hashes = {hashlib.sha1(f.encode("utf-8")).hexdigest()[:16] for f in forms}
        self.long_forms = sorted(f for f in forms if len(f) >= CONTAINED_MIN_CHARS)
        self._by_prefix: Dict[str, List[str]] = {}
        self._by_gram: Dict[str, set] = {}
        k = self.GRAM
        for i, f in enumerate(self.long_forms):
            self._by_prefix.setdefault(f[:k], []).append(f)
            for j in range(len(f) - k + 1):
                self._by_gram.setdefault(f[j:j + k], set()).add(i)

    @classmethod
    def from_repo(cls, repo: Path = REPO, root: Optional[Path] = None) -> "HeldOut":
        """The gold and dev rows of ``repo``, their texts resolved with ``corpora.lookup``."""
        recs = corpora.lookup(heldout_refs(repo), root)
        return cls(r.text for r in recs.values())

    def why_excluded(self, h: str, form: str) -> Optional[str]:
        """``"heldout_hash"``, ``"heldout_contained"`` or None for a text's hash and hash form."""
        if h in self.hashes:
            return "heldout_hash"
        k = self.GRAM
        for i in range(len(form) - k + 1):
            for g in self._by_prefix.get(form[i:i + k], ()):
                if form.startswith(g, i):
                    return "heldout_contained"
        if len(form) >= CONTAINED_MIN_CHARS:
            for i in self._by_gram.get(form[:k], ()):
                if form in self.long_forms[i]:
                    return "heldout_contained"
        return None


# ------------------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class Stratum:
    """One source of the sample: corpora read together, a weight, and how to draw from them.

    ``group``: a ``Record.meta`` key drawn round-robin (category, label) so one big class
    cannot fill the quota; ``hard``: draw ``HARD_SHARE`` of the quota from hard texts first.
    """

    name: str
    corpora: Tuple[str, ...]
    lang: str
    kind: str
    weight: float
    hard: bool = False
    group: Optional[str] = None


# Weights are the counts for n = 12,050; ``allocate`` scales them to any n and hands the
# quota a small source cannot fill (ASAP, SemEval) to the others of the same language.
PLAN: Tuple[Stratum, ...] = (
    Stratum("online_shopping", ("online_shopping",), "zh", "review", 1700, True, "cat"),
    Stratum("waimai", ("waimai",), "zh", "review", 1300, True, "label"),
    Stratum("chnsenticorp_htl", ("chnsenticorp_htl",), "zh", "review", 1100, True, "label"),
    # asap_dev is calibration data (training/calibrate.py) and asap_test is the gold slice.
    Stratum("asap", ("asap_train",), "zh", "review", 200, True),
    Stratum("ccf_car", ("ccf_car",), "zh", "car", 1200, True),
    Stratum("clue_emotion", ("clue_emotion_test", "clue_emotion_valid"), "zh", "social", 1400, False, "emotion"),
    Stratum("airline", ("airline",), "en", "social", 1500, True, "sentiment"),
    Stratum("complaints", ("complaints",), "en", "social", 1100, True, "complaint"),
    # semeval16_test is the gold source of whole reviews; its sentences stay out too.
    Stratum("semeval", ("semeval16_train_reviews", "semeval15_hotels"), "en", "review", 550, True),
    Stratum("bitext", ("bitext",), "en", "support", 900, False, "category"),
    Stratum("banking77", ("banking77_train", "banking77_test"), "en", "support", 1100, False, "intent"),
)


def _waterfill(total: float, weights: Dict[str, float], room: Dict[str, float]) -> Tuple[Dict[str, float], float]:
    """Split ``total`` in proportion to ``weights``, none above its ``room``: (shares, unplaced)."""
    share = {k: 0.0 for k in weights}
    open_ = [k for k in weights if room[k] > 0]
    while total > 1e-9 and open_:
        w = sum(weights[k] for k in open_)
        full = [k for k in open_ if total * weights[k] / w >= room[k] - share[k]]
        if not full:
            for k in open_:
                share[k] += total * weights[k] / w
            return share, 0.0
        for k in full:
            total -= room[k] - share[k]
            share[k] = room[k]
        open_ = [k for k in open_ if k not in full]
    return share, max(total, 0.0)


def allocate(n: int, weights: Dict[str, float], caps: Dict[str, int],
             langs: Optional[Dict[str, str]] = None) -> Dict[str, int]:
    """Split ``n`` over strata in proportion to ``weights``, no stratum above its cap.

    Each language (``langs``) first gets its weight's share of ``n``; what a capped stratum
    cannot take goes to the other strata of its language, and only what a whole language
    cannot take goes to the rest. Largest remainders settle the rounding.

    >>> allocate(10, {"a": 1, "b": 1, "c": 2}, {"a": 1, "b": 99, "c": 99}, {"a": "zh", "b": "zh", "c": "en"})
    {'a': 1, 'b': 4, 'c': 5}
    """
    langs = langs or {k: "" for k in weights}
    total_w = sum(weights.values())
    share: Dict[str, float] = {}
    unplaced = 0.0
    for lang in sorted(set(langs.values())):
        ks = [k for k in weights if langs[k] == lang]
        got, left = _waterfill(n * sum(weights[k] for k in ks) / total_w, {k: weights[k] for k in ks},
                               {k: caps[k] for k in ks})
        share.update(got)
        unplaced += left
    if unplaced:
        extra, _ = _waterfill(unplaced, weights, {k: caps[k] - share[k] for k in weights})
        share = {k: share[k] + extra[k] for k in weights}
    quota = {k: min(caps[k], int(share[k] + 1e-9)) for k in weights}
    rest = min(n, sum(caps.values())) - sum(quota.values())
    for k in sorted(weights, key=lambda k: (-(share[k] - quota[k]), k)):
        if rest <= 0:
            break
        if quota[k] < caps[k]:
            quota[k] += 1
            rest -= 1
    return quota


# ------------------------------------------------------------------------------ hard texts
class HardTexts:
    """The over-sampling heuristic: a contrast clause (但是/不过/but/however, as the clause
    splitter finds them) or seed terms of two or more touchpoints ("Great food. Rude waiter.").

    "Two or more clauses" alone was tried and dropped: it holds for over half of all short
    delivery reviews, so drawing from it over-sampled nothing.
    """

    def __init__(self, lexicon_path: Path = REPO / "data/lexicons/touchpoints.tsv"):
        rows = read_tsv(lexicon_path)
        self.zh = self._table(r for r in rows if r[1] == "zh")
        self.en = self._table(r for r in rows if r[1] == "en")
        self.zh_re = self._regex(self.zh, r"", r"")
        self.en_re = self._regex(self.en, r"\b", r"(?:s|es)?\b")

    @staticmethod
    def _table(rows) -> Dict[str, set]:
        table: Dict[str, set] = {}
        for label, _, term in rows:
            table.setdefault(fold(term), set()).add(label)
        return table

    @staticmethod
    def _regex(table, left, right):
        alts = "|".join(re.escape(t) for t in sorted(table, key=len, reverse=True))
        return re.compile(f"{left}(?:{alts}){right}")

    def touchpoints(self, folded: str) -> set:
        """Touchpoint ids whose seed terms occur in a :func:`fold`-ed text."""
        found = set()
        for m in self.zh_re.finditer(folded):
            found |= self.zh[m.group(0)]
        for m in self.en_re.finditer(folded):
            term = m.group(0)
            found |= self.en.get(term) or self.en.get(term[:-1]) or self.en.get(term[:-2]) or set()
        return found

    def __call__(self, text: str) -> bool:
        folded = fold(text)
        if any(contrast for _, _, contrast in split_clauses(folded)):
            return True
        return len(self.touchpoints(folded)) >= 2


# ------------------------------------------------------------------------------ drawing
@dataclass
class Candidate:
    corpus: str
    id: str
    lang: str
    text: str
    hash: str
    group: str
    hard: bool


def candidates(stratum: Stratum, heldout: HeldOut, is_hard: HardTexts, counts: Counter,
               root: Optional[Path] = None) -> List[Candidate]:
    """The eligible texts of a stratum (length, not held out), in reader order."""
    out = []
    for corpus in stratum.corpora:
        for r in corpora.read(corpus, root):
            text = r.text
            if not MIN_CHARS <= len(text.strip()) <= MAX_CHARS:
                counts["length"] += 1
                continue
            form = hash_form(text)
            h = hashlib.sha1(form.encode("utf-8")).hexdigest()[:16]
            why = heldout.why_excluded(h, form)
            if why:
                counts[why] += 1
                continue
            group = str(r.meta.get(stratum.group, "")) if stratum.group else ""
            out.append(Candidate(r.corpus, r.id, r.meta.get("lang", stratum.lang), text, h, group,
                                 stratum.hard and is_hard(text)))
    return out


def round_robin(pool: Sequence[Candidate], k: int, seen: set, counts: Counter) -> List[Candidate]:
    """Up to ``k`` candidates, cycling over their groups in sorted order, skipping seen hashes."""
    groups: Dict[str, List[Candidate]] = {}
    for c in pool:
        groups.setdefault(c.group, []).append(c)
    queues = {g: list(reversed(v)) for g, v in groups.items()}
    order = sorted(queues)
    out: List[Candidate] = []
    while len(out) < k and order:
        for g in list(order):
            if len(out) >= k:
                break
            q = queues[g]
            while q:
                c = q.pop()
                if c.hash in seen:
                    counts["duplicate"] += 1
                    continue
                seen.add(c.hash)
                out.append(c)
                break
            if not q:
                order.remove(g)
    return out


def draw(stratum: Stratum, pool: List[Candidate], quota: int, seed: int, seen: set,
         counts: Counter) -> List[Candidate]:
    """A stratum's share: ``HARD_SHARE`` of the quota from hard texts, the rest from all."""
    rng = random.Random(f"{seed}-{stratum.name}")
    pool = list(pool)
    rng.shuffle(pool)
    picked: List[Candidate] = []
    if stratum.hard:
        picked = round_robin([c for c in pool if c.hard], round(quota * HARD_SHARE), seen, counts)
    taken = {(c.corpus, c.id) for c in picked}
    rest = [c for c in pool if (c.corpus, c.id) not in taken]
    return picked + round_robin(rest, quota - len(picked), seen, counts)


def unique_count(pool: Sequence[Candidate]) -> int:
    return len({c.hash for c in pool})


def sample(n: int, seed: int = 0, plan: Sequence[Stratum] = PLAN, heldout: Optional[HeldOut] = None,
           root: Optional[Path] = None) -> Tuple[List[Candidate], dict]:
    """Draw the annotation sample: ``(rows in batch order, manifest)``.

    Deterministic for a given ``seed``, plan and corpora. Texts are deduplicated across all
    strata by :func:`text_hash` (earlier strata in ``plan`` keep a shared text).
    """
    heldout = heldout if heldout is not None else HeldOut.from_repo(root=root)
    is_hard = HardTexts()
    counts: Counter = Counter()
    pools = {s.name: candidates(s, heldout, is_hard, counts, root) for s in plan}
    caps = {s.name: unique_count(pools[s.name]) for s in plan}
    quota = allocate(n, {s.name: s.weight for s in plan}, caps, {s.name: s.lang for s in plan})
    seen: set = set()
    drawn = {s.name: draw(s, pools[s.name], quota[s.name], seed, seen, counts) for s in plan}
    rows = interleave(drawn, seed)
    return rows, manifest(rows, drawn, plan, quota, counts, seed, n)


def interleave(drawn: Dict[str, List[Candidate]], seed: int) -> List[Candidate]:
    """Spread every stratum evenly over the whole sequence, so each batch holds the same mix.

    Item *i* of a stratum of size *m* sits at ``(i + u) / m`` with a seeded jitter ``u``.
    """
    rng = random.Random(f"{seed}-interleave")
    keyed = []
    for name in sorted(drawn):
        m = len(drawn[name])
        keyed += [((i + rng.random()) / m, name, i, c) for i, c in enumerate(drawn[name])]
    keyed.sort(key=lambda t: t[:3])
    return [t[3] for t in keyed]


def manifest(rows, drawn, plan, quota, counts, seed, n) -> dict:
    by_corpus = Counter(c.corpus for c in rows)
    by_lang = Counter(c.lang for c in rows)
    kinds = {s.name: s.kind for s in plan}
    by_kind = Counter()
    for name, cs in drawn.items():
        by_kind[kinds[name]] += len(cs)
    refs = "\n".join(f"{c.corpus}\t{c.id}" for c in rows)
    return {
        "format": 1,
        "made_by": "python -m training.annotation sample",
        "seed": seed, "n_requested": n, "n": len(rows),
        "by_stratum": {s.name: {"n": len(drawn[s.name]), "quota": quota[s.name], "lang": s.lang, "kind": s.kind,
                                "hard": sum(c.hard for c in drawn[s.name]), "corpora": list(s.corpora)}
                       for s in plan},
        "by_corpus": dict(sorted(by_corpus.items())),
        "by_lang": dict(sorted(by_lang.items())),
        "by_kind": dict(sorted(by_kind.items())),
        "hard_share_of_oversampled": round(
            sum(c.hard for s in plan if s.hard for c in drawn[s.name])
            / max(1, sum(len(drawn[s.name]) for s in plan if s.hard)), 3),
        "skipped": dict(sorted(counts.items())),
        "sample_sha1": hashlib.sha1(refs.encode("utf-8")).hexdigest(),
    }


def inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def write_batches(rows: Sequence[Candidate], man: dict, out: Path, batch_size: int, force: bool = False) -> List[Path]:
    """``out/batch_000.jsonl`` ... and ``out/manifest.json``; refuses a folder inside the repo."""
    out = Path(out)
    if inside(out, REPO):
        raise SystemExit(f"{out} is inside the repository; customer texts must stay out of it. "
                         f"Pass a folder elsewhere, e.g. --out /work/annot/batches")
    old = sorted(out.glob("batch_*.jsonl")) if out.exists() else []
    if old and not force:
        raise SystemExit(f"{out} already holds {len(old)} batch files; pass --force to replace them "
                         f"or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    for p in old:
        p.unlink()
    paths = []
    for b, start in enumerate(range(0, len(rows), batch_size)):
        p = out / f"batch_{b:03d}.jsonl"
        lines = [json.dumps({"corpus": c.corpus, "id": c.id, "lang": c.lang, "text": c.text}, ensure_ascii=False)
                 for c in rows[start:start + batch_size]]
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(p)
    man = dict(man, batch_size=batch_size, batches=[p.name for p in paths])
    (out / "manifest.json").write_text(json.dumps(man, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return paths


# ------------------------------------------------------------------------------ import
def label_ids(path: Path = TAXONOMY) -> Dict[str, List[str]]:
    """The valid ids per section (touchpoints, themes, stages, signals) of a taxonomy file."""
    from voc.taxonomy import SECTIONS, load_taxonomy

    tax = load_taxonomy(path)
    return {s: tax.ids(s) for s in SECTIONS}


def load_batches(folder: Path) -> Dict[Tuple[str, str], dict]:
    """``{(corpus, id): {"corpus", "id", "lang", "text", "batch"}}`` from a batch folder."""
    folder = Path(folder)
    files = sorted(folder.glob("batch_*.jsonl"))
    if not files:
        raise SystemExit(f"no batch_*.jsonl in {folder}; pass the folder written by "
                         f"'python -m training.annotation sample --out DIR'")
    rows = {}
    for p in files:
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                rows[(d["corpus"], str(d["id"]))] = dict(d, id=str(d["id"]), batch=p.stem)
    return rows


def _fold_without_space(text: str) -> Tuple[str, List[int]]:
    """:func:`fold`-ed text without whitespace, and each kept character's index in ``text``."""
    folded = fold(text)
    keep = [i for i, ch in enumerate(folded) if not ch.isspace()]
    return "".join(folded[i] for i in keep), keep


def resolve_evidence(text: str, quote: str) -> Tuple[Optional[Tuple[int, int]], str]:
    """``([start, end], how)`` of ``quote`` in ``text`` in code points, ``how`` being ``"exact"``
    or ``"fuzzy"``; ``(None, "missing")`` when it is not there.

    Exact ``text.find`` first (the first occurrence); else the match that ignores whitespace,
    case, full/half width and Traditional/Simplified, mapped back to the raw characters.

    >>> resolve_evidence("The waiter was RUDE.", "waiter was rude")
    ((4, 19), 'fuzzy')
    """
    if not isinstance(quote, str) or not quote.strip():
        return None, "missing"
    i = text.find(quote)
    if i >= 0:
        return (i, i + len(quote)), "exact"
    folded, index = _fold_without_space(text)
    q, _ = _fold_without_space(quote)
    j = folded.find(q)
    if j < 0:
        return None, "missing"
    return (index[j], index[j + len(q) - 1] + 1), "fuzzy"


class Rejected(Exception):
    """A raw row that cannot be stored; ``reasons`` lists every problem found."""

    def __init__(self, reasons: List[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _ids_in_order(values, valid: List[str], what: str, reasons: List[str]) -> List[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        reasons.append(f"{what} must be a list of ids, got {type(values).__name__}")
        return []
    unknown = [v for v in values if v not in valid]
    if unknown:
        reasons.append(f"unknown {what} id(s) {unknown}; valid: {', '.join(valid)}")
    return [v for v in valid if v in values]


def _touchpoints(raw, text: str, valid: List[str], reasons: List[str], stats: Counter) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        reasons.append('touchpoints must be a list of {"id", "polarity", "evidence"} objects')
        return {}
    out: Dict[str, dict] = {}
    for tp in raw:
        if not isinstance(tp, dict):
            reasons.append(f"touchpoint entry {tp!r} is not an object")
            continue
        tid, pol = tp.get("id"), tp.get("polarity")
        if tid not in valid:
            reasons.append(f"unknown touchpoint id {tid!r}; valid: {', '.join(valid)}")
            continue
        if pol not in POLARITIES:
            reasons.append(f"touchpoint {tid}: bad polarity {pol!r}; valid: {', '.join(POLARITIES)}")
            continue
        if tid in out and out[tid]["polarity"] != pol:
            reasons.append(f"touchpoint {tid} listed twice with polarities {out[tid]['polarity']} and {pol}")
            continue
        quotes = tp.get("evidence") or []
        quotes = [quotes] if isinstance(quotes, str) else quotes
        entry = out.setdefault(tid, {"polarity": pol, "evidence": []})
        if not quotes:
            stats["touchpoint_without_evidence"] += 1
        for q in quotes:
            span, how = resolve_evidence(text, q)
            stats[f"evidence_{how}"] += 1
            if span and list(span) not in entry["evidence"]:
                entry["evidence"].append(list(span))
    return {k: out[k] for k in valid if k in out}


NULL_STRINGS = ("", "null", "none")


def _null(value, stats: Counter):
    """JSON null for a value an annotator wrote as "null", "None" or "" (counted as a warning)."""
    if isinstance(value, str) and value.strip().lower() in NULL_STRINGS:
        stats["null_written_as_string"] += 1
        return None
    return value


def stored_row(raw: dict, batch_row: dict, ids: Dict[str, List[str]], annotator: str, stats: Counter) -> dict:
    """Validate one raw annotator row against its batch row; the stored form, or :class:`Rejected`."""
    reasons: List[str] = []
    text = batch_row["text"]
    lang = raw.get("lang") or batch_row["lang"]
    if lang not in LANGS:
        reasons.append(f"bad lang {lang!r}; valid: {', '.join(LANGS)}")
    sentiment = raw.get("sentiment")
    if sentiment not in SENTIMENTS:
        reasons.append(f"bad sentiment {sentiment!r}; valid: {', '.join(SENTIMENTS)}")
    touchpoints = _touchpoints(raw.get("touchpoints"), text, ids["touchpoints"], reasons, stats)
    themes = _ids_in_order(raw.get("themes"), ids["themes"], "theme", reasons)
    signals = _ids_in_order(raw.get("signals"), ids["signals"], "signal", reasons)
    stage = _null(raw.get("stage"), stats)
    if stage is not None and stage not in ids["stages"]:
        reasons.append(f"unknown stage {stage!r}; valid: {', '.join(ids['stages'])} or null")
    rp = _null(raw.get("recommend_polarity"), stats)
    if rp is not None and rp not in RECOMMEND_POLARITIES:
        reasons.append(f"bad recommend_polarity {rp!r}; valid: positive, negative or null")
    if reasons:
        raise Rejected(reasons)
    if "recommend" in signals and rp is None:
        rp = "negative" if sentiment == "negative" else "positive"
        stats["recommend_polarity_inferred"] += 1
    elif "recommend" not in signals and rp is not None:
        rp = None
        stats["recommend_polarity_without_signal_cleared"] += 1
    return {"corpus": batch_row["corpus"], "id": batch_row["id"], "lang": lang, "hash": text_hash(text),
            "sentiment": sentiment, "touchpoints": touchpoints, "themes": themes, "stage": stage,
            "signals": signals, "recommend_polarity": rp, "annotator": annotator}


def rejects_path(raw: Path) -> Path:
    """``x/NAME.jsonl`` → ``x/NAME.rejects.jsonl``."""
    raw = Path(raw)
    return raw.with_name(raw.name[:-len(".jsonl")] + ".rejects.jsonl" if raw.name.endswith(".jsonl")
                         else raw.name + ".rejects.jsonl")


def import_raw(raw: Path, out: Path, batches: Dict[Tuple[str, str], dict], annotator: str,
               ids: Optional[Dict[str, List[str]]] = None) -> dict:
    """Validate and convert an annotator's raw file; write ``out`` and the rejects file.

    Returns the report: rows read/written/rejected, reject reasons, evidence counts
    (exact/fuzzy/missing quotes), warnings, and the rows of each touched batch with no label.
    """
    ids = ids or label_ids()
    stats: Counter = Counter()
    reasons: Counter = Counter()
    written, rejects, done = [], [], set()
    lines = Path(raw).read_text(encoding="utf-8").splitlines()
    n_read = 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        n_read += 1
        why = []
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            d, why = line, [f"not valid JSON: {e}"]
        if not why and not isinstance(d, dict):
            why = ["a line must be one JSON object"]
        if not why:
            key = (str(d.get("corpus")), str(d.get("id")))
            if key not in batches:
                why = [f"(corpus, id) {key} is in no batch file; copy corpus and id from the batch line"]
            elif key in done:
                why = [f"(corpus, id) {key} labelled twice; the first label is kept"]
        if not why:
            try:
                written.append(stored_row(d, batches[key], ids, annotator, stats))
                done.add(key)
            except Rejected as e:
                why = e.reasons
        if why:
            reasons.update(_reason_kind(r) for r in why)
            rejects.append({"line": n, "reasons": why, "row": d})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in written), encoding="utf-8")
    rej = rejects_path(raw)
    if rejects:
        rej.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects), encoding="utf-8")
    elif rej.exists():
        rej.unlink()
    touched = sorted({batches[k]["batch"] for k in done})
    missing = {b: sum(1 for k, v in batches.items() if v["batch"] == b and k not in done) for b in touched}
    return {"raw": str(raw), "out": str(out), "annotator": annotator, "read": n_read, "written": len(written),
            "rejected": len(rejects), "rejects_file": str(rej) if rejects else None,
            "reject_reasons": dict(reasons.most_common()),
            "evidence": {"exact": stats["evidence_exact"], "fuzzy": stats["evidence_fuzzy"],
                         "dropped": stats["evidence_missing"]},
            "warnings": {k: v for k, v in sorted(stats.items()) if not k.startswith("evidence_")},
            "unlabelled_in_touched_batches": {b: m for b, m in missing.items() if m}}


def _reason_kind(reason: str) -> str:
    """A reason's summary line: its words before the first quote or colon."""
    return re.split(r"[:'\"{(\[]", reason, maxsplit=1)[0].strip()


# ------------------------------------------------------------------------------ agreement
def cohen_kappa(a: Sequence, b: Sequence) -> Optional[float]:
    """Cohen's kappa of two label sequences (None labels count as their own class).

    ``(p_o - p_e) / (1 - p_e)``; when chance agreement is total (both annotators used one
    and the same label throughout) it is 1.0 — and 0.0 if the two single labels differ.
    None for empty input.
    """
    if not a:
        return None
    n = len(a)
    p_o = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if p_e == 1:
        return 1.0 if p_o == 1 else 0.0
    return round((p_o - p_e) / (1 - p_e), 4)


def micro_f1(a_sets: Sequence[set], b_sets: Sequence[set]) -> dict:
    """Micro-averaged F1 of B against A over paired label sets: ``2·|A∩B| / (|A| + |B|)``.

    Symmetric in A and B; None when neither annotator used any label.
    """
    both = sum(len(x & y) for x, y in zip(a_sets, b_sets))
    na, nb = sum(map(len, a_sets)), sum(map(len, b_sets))
    f1 = round(2 * both / (na + nb), 4) if na + nb else None
    return {"f1": f1, "both": both, "a": na, "b": nb}


def per_label_f1(a_sets, b_sets, labels) -> Dict[str, dict]:
    return {lab: micro_f1([{x for x in s if x == lab} for s in a_sets], [{x for x in s if x == lab} for s in b_sets])
            for lab in labels if any(lab in s for s in a_sets) or any(lab in s for s in b_sets)}


def read_stored(path: Path) -> Dict[Tuple[str, str], dict]:
    rows = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows[(d["corpus"], str(d["id"]))] = d
    return rows


def agreement(a_rows: Dict[Tuple[str, str], dict], b_rows: Dict[Tuple[str, str], dict]) -> dict:
    """Agreement of two stored annotations on their common ``(corpus, id)`` rows."""
    common = sorted(set(a_rows) & set(b_rows))
    A = [a_rows[k] for k in common]
    B = [b_rows[k] for k in common]

    def sets(rows, fn):
        return [set(fn(r)) for r in rows]

    tp = lambda r: r["touchpoints"]  # noqa: E731
    tp_pol = lambda r: {f"{k}:{v['polarity']}" for k, v in r["touchpoints"].items()}  # noqa: E731
    out = {"n_common": len(common), "only_a": len(set(a_rows) - set(b_rows)),
           "only_b": len(set(b_rows) - set(a_rows)),
           "sentiment_kappa": cohen_kappa([r["sentiment"] for r in A], [r["sentiment"] for r in B]),
           "sentiment_agreement": _share_equal([r["sentiment"] for r in A], [r["sentiment"] for r in B]),
           "stage_kappa": cohen_kappa([r.get("stage") for r in A], [r.get("stage") for r in B]),
           "stage_agreement": _share_equal([r.get("stage") for r in A], [r.get("stage") for r in B])}
    for name, fn in (("touchpoints", tp), ("touchpoint_polarity", tp_pol),
                     ("themes", lambda r: r["themes"]), ("signals", lambda r: r["signals"])):
        sa, sb = sets(A, fn), sets(B, fn)
        out[name] = dict(micro_f1(sa, sb), per_label=per_label_f1(sa, sb, sorted(set().union(*sa, *sb))))
    return out


def _share_equal(a, b) -> Optional[float]:
    return round(sum(x == y for x, y in zip(a, b)) / len(a), 4) if a else None


def agreement_table(res: dict) -> str:
    """The headline figures of :func:`agreement` as a Markdown table."""
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [f"{res['n_common']} common rows ({res['only_a']} only in A, {res['only_b']} only in B)", "",
             "| measure | value | detail |", "|---|---|---|",
             f"| sentiment kappa | {fmt(res['sentiment_kappa'])} | raw agreement {fmt(res['sentiment_agreement'])} |",
             f"| stage kappa | {fmt(res['stage_kappa'])} | raw agreement {fmt(res['stage_agreement'])} |"]
    for name in ("touchpoints", "touchpoint_polarity", "themes", "signals"):
        m = res[name]
        lines.append(f"| {name} micro-F1 | {fmt(m['f1'])} | both {m['both']}, A {m['a']}, B {m['b']} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ CLI
def main(argv=None):
    ap = argparse.ArgumentParser(description="Annotation corpus: sample batches, import labels, agreement.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample", help="draw the texts to label, in batches, into a folder outside the repo")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, default=12000)
    s.add_argument("--batch-size", type=int, default=250)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--force", action="store_true", help="replace batch files already in --out")
    i = sub.add_parser("import", help="check an annotator's raw file and store labels + offsets")
    i.add_argument("--raw", required=True)
    i.add_argument("--out", required=True, help="data/annotations/NAME.jsonl")
    i.add_argument("--batches", required=True, help="the folder written by 'sample'")
    i.add_argument("--annotator", help="name stored in each row (default: the --out file's stem)")
    g = sub.add_parser("agree", help="agreement between two stored annotation files")
    g.add_argument("a")
    g.add_argument("b")
    g.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = ap.parse_args(argv)

    if args.cmd == "sample":
        rows, man = sample(args.n, args.seed)
        paths = write_batches(rows, man, Path(args.out), args.batch_size, args.force)
        print(json.dumps({k: man[k] for k in ("n", "by_lang", "by_kind", "by_corpus", "hard_share_of_oversampled",
                                              "skipped")}, ensure_ascii=False, indent=2))
        print(f"{len(paths)} batches in {args.out}", file=sys.stderr)
    elif args.cmd == "import":
        annotator = args.annotator or Path(args.out).stem
        report = import_raw(Path(args.raw), Path(args.out), load_batches(Path(args.batches)), annotator)
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        res = agreement(read_stored(Path(args.a)), read_stored(Path(args.b)))
        print(json.dumps(res, ensure_ascii=False, indent=2) if args.json else agreement_table(res))


if __name__ == "__main__":
    main()
