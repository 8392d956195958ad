"""Taxonomy files: the touchpoints (aspects), themes, stages and signals a model knows.

A taxonomy is a YAML file (format 1)::

    format: 1
    name: airline
    lexicons:                  # optional seed-term TSVs (id<TAB>lang<TAB>term), relative to this file
      touchpoints: lexicons/touchpoints.tsv
    touchpoints:               # "aspects" is accepted as another name for this section
      - id: flight             # letters, digits, "_", "-", "."; unique within its section
        en: Flight
        zh: 航班
        description: The flight itself.
      - id: delay
        en: Delay
        zh: 延误
        parent: flight         # optional; two levels at most (category / sub-category)
        stage: usage           # optional journey-stage prior, an id from "stages"
        seeds:                 # optional seed terms, both languages
          en: [late flight, delayed]
          zh: [延误, 晚点]
        rules:                 # optional regular expressions over the normalised text
          en: ['delayed (?:by|for) \\d+ ?(?:hours?|hrs?)']
    themes: [...]
    stages: [...]
    signals: [...]

Normalised text is lowercase Simplified Chinese with full-width characters folded, so
seeds and rules are written that way too (Traditional seeds are converted on load).

:func:`load_taxonomy` reads and validates a file and raises :class:`TaxonomyError` with
every problem found (each naming the section, entry and field), so one run of
``voc taxonomy check`` shows them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .errors import VocError

SECTIONS = ("touchpoints", "themes", "stages", "signals")
LANGS = ("zh", "en")
ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
ENTRY_KEYS = {"id", "zh", "en", "description", "parent", "stage", "seeds", "rules"}
TOP_KEYS = {"format", "name", "description", "version", "language", "lexicons", "aspects", *SECTIONS}

E_TAXONOMY_FILE = "E501"       # missing, unreadable or not YAML
E_TAXONOMY_SCHEMA = "E502"     # wrong structure, missing or malformed field
E_TAXONOMY_DUPLICATE = "E503"  # the same id twice in a section
E_TAXONOMY_PARENT = "E504"     # parent id unknown
E_TAXONOMY_CYCLE = "E505"      # parents form a cycle
E_TAXONOMY_DEPTH = "E506"      # more than two levels
E_TAXONOMY_TERMS = "E507"      # bad seed term, rule or lexicon row
E_TAXONOMY_REF = "E508"        # a stage prior names no stage


class TaxonomyError(VocError):
    """A taxonomy file is invalid. ``problems`` holds ``(code, where, message)`` for each."""

    def __init__(self, path, problems: List[Tuple[str, str, str]]):
        self.path = str(path)
        self.problems = problems
        lines = [f"  {code} {where}: {msg}" for code, where, msg in problems]
        head = f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in the taxonomy"
        super().__init__(head + "\n" + "\n".join(lines), problems[0][0] if problems else E_TAXONOMY_SCHEMA)


@dataclass
class Label:
    """One touchpoint, theme, stage or signal."""

    id: str
    names: Dict[str, str]
    description: str = ""
    parent: Optional[str] = None
    stage: Optional[str] = None
    seeds: Dict[str, List[str]] = field(default_factory=dict)
    rules: Dict[str, List[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {"id": self.id, **self.names}
        if self.description:
            d["description"] = self.description
        for k in ("parent", "stage"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        if self.seeds:
            d["seeds"] = self.seeds
        if self.rules:
            d["rules"] = self.rules
        return d


@dataclass
class Taxonomy:
    name: str
    sections: Dict[str, List[Label]]
    path: Optional[Path] = None
    lexicon_rows: Dict[str, List[Tuple[str, str, str]]] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    def ids(self, section: str) -> List[str]:
        return [lab.id for lab in self.sections.get(section, [])]

    def parents(self, section: str = "touchpoints") -> Dict[str, str]:
        return {lab.id: lab.parent for lab in self.sections.get(section, []) if lab.parent}

    def stage_priors(self) -> Dict[str, str]:
        return {lab.id: lab.stage for lab in self.sections.get("touchpoints", []) if lab.stage}

    def seed_rows(self, section: str) -> List[Tuple[str, str, str]]:
        """``(id, lang, term)`` rows from inline seeds and the section's lexicon file."""
        from .normalize import DEFAULT_STEPS, make_step, normalize

        fns = [make_step(s) for s in DEFAULT_STEPS]
        rows = [(lab.id, lang, normalize(t.strip(), fns)) for lab in self.sections.get(section, [])
                for lang, terms in lab.seeds.items() for t in terms]
        rows += self.lexicon_rows.get(section, [])
        return rows

    def rule_rows(self) -> List[Tuple[str, str, str, str]]:
        """``(section, id, lang, regex)`` for every rule."""
        return [(sec, lab.id, lang, rx) for sec in SECTIONS for lab in self.sections.get(sec, [])
                for lang, rxs in lab.rules.items() for rx in rxs]

    def n_seeds(self) -> int:
        return sum(len(self.seed_rows(s)) for s in SECTIONS)

    def to_dict(self) -> dict:
        d: dict = {"format": 1, "name": self.name}
        for sec in SECTIONS:
            d[sec] = [lab.to_dict() for lab in self.sections.get(sec, [])]
        return d

    def summary(self) -> str:
        parts = [f"{len(self.sections.get(s, []))} {s}" for s in SECTIONS]
        return f"taxonomy {self.name!r}: " + ", ".join(parts) + f"; {self.n_seeds()} seed terms, " \
            f"{len(self.rule_rows())} rules"


def load_taxonomy(path) -> Taxonomy:
    """Read and validate a taxonomy YAML file; raise :class:`TaxonomyError` listing every problem."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxonomyError(path, [(E_TAXONOMY_FILE, str(path), "no such file; pass the path of a taxonomy "
                                                                 "YAML file (see data/taxonomy.yaml)")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise TaxonomyError(path, [(E_TAXONOMY_FILE, str(path), f"cannot read it as UTF-8 text: {e}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise TaxonomyError(path, [(E_TAXONOMY_FILE, str(path), f"not valid YAML: {e}")]) from None
    return taxonomy_from_dict(data, path)


def taxonomy_from_dict(data, path=None) -> Taxonomy:
    """Validate an already-parsed taxonomy (``path`` locates lexicon files and error messages)."""
    where_file = str(path) if path else "<taxonomy>"
    problems: List[Tuple[str, str, str]] = []
    warnings: List[str] = []
    if not isinstance(data, dict):
        raise TaxonomyError(where_file, [(E_TAXONOMY_SCHEMA, "top level",
                                          "expected a mapping with touchpoints/themes/stages/signals lists")])
    data = dict(data)
    if "aspects" in data:
        if "touchpoints" in data:
            problems.append((E_TAXONOMY_SCHEMA, "aspects", "give either 'aspects' or 'touchpoints', not both"))
        else:
            data["touchpoints"] = data.pop("aspects")
    if data.get("format", 1) != 1:
        problems.append((E_TAXONOMY_SCHEMA, "format", f"unknown format {data.get('format')!r}; this voc reads format 1"))
    for k in data:
        if k not in TOP_KEYS:
            problems.append((E_TAXONOMY_SCHEMA, str(k), f"unknown top-level key; expected some of "
                                                        f"{', '.join(sorted(TOP_KEYS))}"))
    if not data.get("touchpoints"):
        problems.append((E_TAXONOMY_SCHEMA, "touchpoints", "a taxonomy needs at least one touchpoint (aspect)"))

    sections: Dict[str, List[Label]] = {}
    for sec in SECTIONS:
        raw = data.get(sec) or []
        if not isinstance(raw, list):
            problems.append((E_TAXONOMY_SCHEMA, sec, "expected a list of entries (each a mapping with an id)"))
            continue
        sections[sec] = _read_section(sec, raw, problems, warnings)

    for sec, labels in sections.items():
        _check_hierarchy(sec, labels, problems)
    stage_ids = {lab.id for lab in sections.get("stages", [])}
    for lab in sections.get("touchpoints", []):
        if lab.stage and lab.stage not in stage_ids:
            problems.append((E_TAXONOMY_REF, f"touchpoints ({lab.id}).stage",
                             f"{lab.stage!r} is not a stage id; known: {', '.join(sorted(stage_ids)) or 'none'}"))

    lexicon_rows = _read_lexicon_files(data.get("lexicons"), path, sections, problems)
    if problems:
        raise TaxonomyError(where_file, problems)
    return Taxonomy(name=str(data.get("name") or (Path(path).stem if path else "custom")), sections=sections,
                    path=Path(path) if path else None, lexicon_rows=lexicon_rows, warnings=warnings)


def _read_section(sec: str, raw: list, problems, warnings) -> List[Label]:
    labels: List[Label] = []
    seen: Dict[str, int] = {}
    for i, e in enumerate(raw):
        where = f"{sec}[{i}]"
        if not isinstance(e, dict):
            problems.append((E_TAXONOMY_SCHEMA, where, "expected a mapping with at least an 'id'"))
            continue
        lid = e.get("id")
        if not isinstance(lid, str) or not ID_RE.match(lid):
            problems.append((E_TAXONOMY_SCHEMA, f"{where}.id",
                             f"{lid!r} is not a valid id (letters, digits, '_', '-', '.'; no spaces)"))
            continue
        where = f"{sec}[{i}] ({lid})"
        if lid in seen:
            problems.append((E_TAXONOMY_DUPLICATE, where, f"duplicate id; first defined at {sec}[{seen[lid]}]"))
            continue
        seen[lid] = i
        for k in e:
            if k not in ENTRY_KEYS:
                problems.append((E_TAXONOMY_SCHEMA, f"{where}.{k}", f"unknown field; expected some of "
                                                                   f"{', '.join(sorted(ENTRY_KEYS))}"))
        names = {lang: e[lang] for lang in LANGS if e.get(lang) is not None}
        for lang, v in names.items():
            if not isinstance(v, str) or not v.strip():
                problems.append((E_TAXONOMY_SCHEMA, f"{where}.{lang}", "the name must be a non-empty string"))
        missing = [lang for lang in LANGS if lang not in names]
        if missing:
            warnings.append(f"{where}: no {'/'.join(missing)} name; the id is shown instead")
        parent = e.get("parent")
        if parent is not None and not isinstance(parent, str):
            problems.append((E_TAXONOMY_SCHEMA, f"{where}.parent", "the parent must be an id (a string)"))
            parent = None
        stage = e.get("stage")
        if stage is not None and sec != "touchpoints":
            problems.append((E_TAXONOMY_SCHEMA, f"{where}.stage", "only touchpoints take a stage prior"))
        seeds = _terms(e.get("seeds"), f"{where}.seeds", problems)  # normalised in seed_rows()
        rules = _terms(e.get("rules"), f"{where}.rules", problems)
        for lang, rxs in rules.items():
            for k, rx in enumerate(rxs):
                try:
                    re.compile(rx)
                except re.error as err:
                    problems.append((E_TAXONOMY_TERMS, f"{where}.rules.{lang}[{k}]", f"bad regular expression: {err}"))
        labels.append(Label(lid, {k: str(v) for k, v in names.items()}, str(e.get("description") or ""),
                            parent, stage if sec == "touchpoints" else None, seeds, rules))
    return labels


def _terms(raw, where: str, problems) -> Dict[str, List[str]]:
    """``{zh: [...], en: [...]}``; a plain list counts for both languages."""
    if raw is None:
        return {}
    if isinstance(raw, list):
        raw = {"any": raw}
    if not isinstance(raw, dict):
        problems.append((E_TAXONOMY_TERMS, where, "expected {zh: [terms], en: [terms]} or a list of terms"))
        return {}
    out: Dict[str, List[str]] = {}
    for lang, ts in raw.items():
        if lang not in (*LANGS, "any"):
            problems.append((E_TAXONOMY_TERMS, f"{where}.{lang}", "language must be zh, en or any"))
            continue
        if isinstance(ts, str):
            ts = [ts]
        if not isinstance(ts, list) or not all(isinstance(t, str) and t.strip() for t in ts):
            problems.append((E_TAXONOMY_TERMS, f"{where}.{lang}", "expected a list of non-empty strings"))
            continue
        out[lang] = list(ts)
    return out


def _check_hierarchy(sec: str, labels: List[Label], problems) -> None:
    by_id = {lab.id: lab for lab in labels}
    for lab in labels:
        if not lab.parent:
            continue
        where = f"{sec} ({lab.id}).parent"
        if lab.parent not in by_id:
            problems.append((E_TAXONOMY_PARENT, where, f"{lab.parent!r} is not a {sec} id in this file"))
            continue
        chain, cur = [lab.id], lab.parent
        while cur:
            if cur in chain:
                problems.append((E_TAXONOMY_CYCLE, where, "parents form a cycle: " + " -> ".join(chain + [cur])))
                break
            chain.append(cur)
            cur = by_id[cur].parent if cur in by_id else None
        else:
            if len(chain) > 2:
                problems.append((E_TAXONOMY_DEPTH, where, "two levels at most (category / sub-category); "
                                                          "chain: " + " -> ".join(chain)))


def _read_lexicon_files(raw, path, sections, problems) -> Dict[str, List[Tuple[str, str, str]]]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        problems.append((E_TAXONOMY_SCHEMA, "lexicons", "expected a mapping section -> TSV file path"))
        return {}
    from .lexicon import read_tsv

    base = Path(path).parent if path else Path(".")
    out: Dict[str, List[Tuple[str, str, str]]] = {}
    for sec, rel in raw.items():
        if sec not in SECTIONS:
            problems.append((E_TAXONOMY_SCHEMA, f"lexicons.{sec}", f"unknown section; expected one of {SECTIONS}"))
            continue
        f = base / str(rel)
        if not f.exists():
            problems.append((E_TAXONOMY_FILE, f"lexicons.{sec}", f"{f} does not exist (paths are relative to the "
                                                                 "taxonomy file)"))
            continue
        try:
            rows = read_tsv(f)
        except VocError as e:
            problems.append((E_TAXONOMY_TERMS, f"lexicons.{sec}", e.message))
            continue
        known = {lab.id for lab in sections.get(sec, [])}
        unknown = sorted({r[0] for r in rows} - known)
        if unknown:
            problems.append((E_TAXONOMY_TERMS, f"lexicons.{sec}", f"{f.name} uses ids not in the {sec} section: "
                                                                  f"{', '.join(unknown[:10])}"))
        bad_lang = sorted({r[1] for r in rows} - {*LANGS, "any"})
        if bad_lang:
            problems.append((E_TAXONOMY_TERMS, f"lexicons.{sec}", f"{f.name}: unknown languages {bad_lang}"))
        out[sec] = rows
    return out
