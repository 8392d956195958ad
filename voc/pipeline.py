"""The one pipeline object: raw text → :class:`~voc.document.Document`.

>>> import voc
>>> nlp = voc.load()                       # the shipped default model
>>> doc = nlp("菜很好吃，但是服务员态度太差了")
>>> [t["id"] for t in doc.touchpoints]     # doctest: +SKIP
['service', 'product']
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence

from . import components as C
from . import resources as R
from .batch.engine import batched
from .document import Document
from .errors import (E_BAD_UNICODE, E_EMPTY, E_INTERNAL, E_MODEL_FILE, E_MODEL_FORMAT, E_MODEL_MISSING, E_NOT_TEXT,
                     E_TOO_LONG, E_UNKNOWN_COMPONENT, InputError, ModelError, VocError)
from .features import LinearHead

FORMAT_VERSION = 1
DEFAULT_MAX_CHARS = 20_000
STAGE_ORDER = ("normalize", "language", "segment", "clauses", "lexicon", "features", "sentiment",
               "touchpoints", "themes", "signals", "stage")


def default_model_path() -> Path:
    """The shipped default model: inside the installed package (``voc/models/voc-default``, how
    a wheel or ``pip install .`` lays it out) or in the checkout's ``models/`` (editable install)."""
    here = Path(__file__).resolve().parent
    packaged = here / "models" / "voc-default"
    return packaged if (packaged / "config.json").exists() else here.parent / "models" / "voc-default"


class Pipeline:
    """Named, ordered components from raw text to a Document.

    Use :func:`voc.load` to get one. ``nlp(text)`` analyses one text; ``nlp.pipe(texts)``
    streams many, batching the learned stages; ``nlp.analyze(records)`` is the error-safe
    form used by the CLI and API (a bad record yields a Document with ``error`` set).
    """

    def __init__(self, components: Sequence[C.Component], meta: Optional[dict] = None,
                 max_chars: int = DEFAULT_MAX_CHARS, path: Optional[Path] = None):
        names = [c.name for c in components]
        if names != list(STAGE_ORDER):
            raise ModelError(f"Pipeline stages must be {list(STAGE_ORDER)}, got {names}", E_UNKNOWN_COMPONENT)
        self.components = list(components)
        self.meta = meta or {}
        self.max_chars = max_chars
        self.path = path

    @property
    def pipe_names(self) -> List[str]:
        return [c.name for c in self.components]

    def get_pipe(self, name: str) -> C.Component:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"No stage {name!r}; stages: {self.pipe_names}")

    @property
    def taxonomy(self) -> dict:
        return self.meta.get("taxonomy", {})

    # ------------------------------------------------------------------ running
    def make_doc(self, text, id: Optional[str] = None) -> Document:
        """Validate the input and create an empty Document (``error`` set when invalid).

        ``text`` may also be a :class:`VocError` (a row the reader could not parse): the
        Document then carries that error, so it keeps its place in the output.
        """
        if isinstance(id, str) and R.SURROGATE_RE.search(id):
            id = R.SURROGATE_RE.sub("\ufffd", id)  # ids are echoed in UTF-8 output too
        if isinstance(text, VocError):
            doc = Document("", id=id)
            doc.error = text.to_dict()
            return doc
        if not isinstance(text, str):
            doc = Document("" if text is None else "", id=id)
            doc.error = InputError(f"The text must be a string, got {type(text).__name__}; "
                                   "send the customer's words as a JSON string.", E_NOT_TEXT).to_dict()
            return doc
        if R.SURROGATE_RE.search(text):
            # Scraped posts carry lone surrogates ("\ud800"): not encodable, so no stage (nor the
            # JSON writer) can take them. U+FFFD keeps the length, so offsets stay valid.
            text = R.SURROGATE_RE.sub("\ufffd", text)
            doc = Document(text, id=id)
            doc.warning = InputError("The text held lone surrogate code points (broken UTF-16); they "
                                     "were replaced by U+FFFD and the rest analysed.", E_BAD_UNICODE).to_dict()
        else:
            doc = Document(text, id=id)
        if not text.strip():
            doc.error = InputError("The text is empty or only whitespace; nothing to analyse.", E_EMPTY).to_dict()
        elif len(text) > self.max_chars:
            doc.full_text = text  # analysed up to max_chars, reported whole
        return doc

    def __call__(self, text: str, id: Optional[str] = None) -> Document:
        """Analyse one text. Raises :class:`voc.InputError` for empty or non-string input."""
        doc = self.make_doc(text, id)
        if doc.error:
            raise InputError(doc.error["message"], doc.error["code"])
        return self._run([doc])[0]

    def pipe(self, texts: Iterable, batch_size: int = 256, n_process: int = 1,
             ids: Optional[Iterable] = None) -> Iterator[Document]:
        """Analyse many texts, in order. Invalid items come back with ``doc.error`` set
        instead of raising, so one bad row never loses its neighbours.

        ``n_process > 1`` spreads batches over forked worker processes. Their Documents carry
        every annotation, token and clause, but not the stages' working state (lexicon
        matches, per-clause feature columns and touchpoint scores).
        """
        items = zip(ids, texts) if ids is not None else ((None, t) for t in texts)
        if n_process == 1:
            for batch in batched(items, batch_size):
                yield from self._run([self.make_doc(t, i) for i, t in batch])
        else:
            yield from self._pipe_multiprocess(items, batch_size, n_process)

    def _run(self, docs: List[Document]) -> List[Document]:
        good = [d for d in docs if d.error is None]
        for d in good:
            if d.full_text is not None:
                # Analyse the head of an oversized text; offsets stay valid for the raw text.
                d.text = d.full_text[: self.max_chars]
        try:
            for comp in self.components:
                good = comp.pipe(good)
        except VocError:
            raise
        except Exception:
            # Isolate the failing record(s): rerun one by one, so a batch of one fails the same
            # way as a batch of many - as an E199 record, never an exception that loses the rest.
            for d in good:
                try:
                    for comp in self.components:
                        comp.pipe([d])
                except Exception as e:  # noqa: BLE001 - reported on the record, never swallowed silently
                    d.error = {"code": E_INTERNAL, "message": f"Analysis failed: {type(e).__name__}: {e}. "
                                                              "Please report this text to the voc maintainers."}
        for d in good:
            if d.error is None and d.warning:
                d.error = d.warning
            if d.full_text is not None:
                d.text, d.full_text = d.full_text, None
                d.error = {"code": E_TOO_LONG, "message": f"The text has more than {self.max_chars} characters; "
                                                          f"only the first {self.max_chars} were analysed."}
        return docs

    def _pipe_multiprocess(self, items, batch_size, n_process):
        from .batch import engine
        from .io import Row

        rows = (Row(n, i, t, {}) for n, (i, t) in enumerate(items, 1))
        for docs in engine.run(self, rows, _drop_working_state, workers=n_process, batch_size=batch_size):
            yield from docs

    def warm(self) -> "Pipeline":
        """Initialise the lazy parts (jieba, OpenCC) now instead of on the first text."""
        self._run([self.make_doc("預熱 warm-up 服务")])
        return self

    # ------------------------------------------------------------------ persistence
    def to_disk(self, path, meta: Optional[dict] = None) -> None:
        """Write a self-describing model folder (config.json, meta.json, one folder per stage)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config = {"format_version": FORMAT_VERSION, "max_chars": self.max_chars,
                  "components": [{"name": c.name, "factory": _FACTORY_NAMES[c.name], **c.config()}
                                 for c in self.components]}
        (path / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
        for c in self.components:
            c.to_disk(path / c.name)
        meta = dict(meta or self.meta)
        meta.setdefault("format_version", FORMAT_VERSION)
        (path / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def from_disk(cls, path) -> "Pipeline":
        path = Path(path)
        if not (path / "config.json").exists():
            raise ModelError(f"No voc model at {path}: config.json is missing. Pass the folder written by "
                             "`voc train` or Pipeline.to_disk, or call voc.load() for the default model.",
                             E_MODEL_MISSING)
        config = C.read_json(path / "config.json")
        meta = C.read_json(path / "meta.json") if (path / "meta.json").exists() else {}
        fv = config.get("format_version")
        if fv != FORMAT_VERSION:
            raise ModelError(f"Model at {path} has format version {fv!r}; this voc reads version "
                             f"{FORMAT_VERSION}. Install the voc version that wrote it or retrain.", E_MODEL_FORMAT)
        comps = []
        try:
            for cc in config["components"]:
                factory = cc.get("factory")
                if factory not in _FACTORIES:
                    raise ModelError(f"Unknown component factory {factory!r} in {path / 'config.json'}; "
                                     f"known: {', '.join(sorted(_FACTORIES))}", E_UNKNOWN_COMPONENT)
                params = {k: v for k, v in cc.items() if k not in ("name", "factory")}
                comps.append(_FACTORIES[factory](path / cc["name"], params))
        except FileNotFoundError as e:
            raise ModelError(f"Model folder {path} is incomplete: {e.filename} is missing.", E_MODEL_FILE) from e
        return cls(comps, meta=meta, max_chars=config.get("max_chars", DEFAULT_MAX_CHARS), path=path)


def _drop_working_state(row, doc: Document) -> Document:
    """What a worker sends back: the Document without per-clause working arrays."""
    doc.whole = doc.whole_tp_model = None
    for c in doc.clauses:
        c.x = c.tp_model = c.tp_lexicon = c.emb = c.breaks = None
        c.matches = []
        c.touchpoints = {}
    return doc


# Versioned factory names: a behaviour change gets a new name, old folders keep loading.
_FACTORY_NAMES = {
    "normalize": "voc.Normalizer.v1", "language": "voc.LanguageDetector.v1", "segment": "voc.Segmenter.v1",
    "clauses": "voc.ClauseSplitter.v1", "lexicon": "voc.LexiconTagger.v1", "features": "voc.Featurizer.v1",
    "sentiment": "voc.SentimentClassifier.v1", "touchpoints": "voc.TouchpointClassifier.v1",
    "themes": "voc.ThemeTagger.v1", "signals": "voc.SignalDetector.v1", "stage": "voc.StageClassifier.v1",
}


def _user_dict(path: Path, params: dict):
    f = path / "userdict.txt"
    return C.Tokenizer(str(f) if f.exists() else None, **params)


_FACTORIES = {
    "voc.Normalizer.v1": lambda p, kw: C.Normalizer(**kw),
    "voc.LanguageDetector.v1": lambda p, kw: C.LanguageDetector(),
    "voc.Segmenter.v1": _user_dict,
    "voc.ClauseSplitter.v1": lambda p, kw: C.ClauseSplitter(),
    "voc.LexiconTagger.v1": lambda p, kw: C.LexiconTagger.from_disk(p),
    "voc.Featurizer.v1": lambda p, kw: C.Featurizer.from_disk(p, **kw),
    "voc.SentimentClassifier.v1": lambda p, kw: C.SentimentClassifier(LinearHead.from_disk(p), **kw),
    "voc.TouchpointClassifier.v1": lambda p, kw: C.TouchpointClassifier.from_disk(p, **kw),
    "voc.ThemeTagger.v1": lambda p, kw: C.ThemeTagger.from_disk(p, **kw),
    "voc.SignalDetector.v1": lambda p, kw: C.SignalDetector.from_disk(p, **kw),
    "voc.StageClassifier.v1": lambda p, kw: C.StageClassifier.from_disk(p, **kw),
}


def load(path=None) -> Pipeline:
    """Load a model folder; without a path, the shipped default ``models/voc-default``."""
    return Pipeline.from_disk(path or default_model_path())


def library_versions() -> dict:
    import numpy
    import scipy

    out = {"python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__}
    for mod in ("jieba", "opencc", "sklearn"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "unknown")
        except ImportError:
            pass
    return out
