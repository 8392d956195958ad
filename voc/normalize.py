"""Normalization: small named ``str -> str`` steps that never change the text's length.

Every step maps code point *i* of its input to code point *i* of its output. The
normalized text therefore lines up with the raw text character for character, and any
span found in the normalized text indexes the customer's own words unchanged
(``raw[start:end]``). Steps that would change the length of a character (NFKC of a
ligature, lower-casing of a dotted capital I, a Traditional phrase that OpenCC rewrites
to a different length) leave that character alone.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Callable, Sequence

from . import resources as R
from .errors import DependencyError, E_DEPENDENCY

Step = Callable[[str], str]


def _per_char(text: str, fn: Callable[[str], str]) -> str:
    out = []
    for ch in text:
        m = fn(ch)
        out.append(m if len(m) == 1 else ch)
    return "".join(out)


# Typographic quotes NFKC leaves alone but customers type interchangeably (won’t = won't).
_QUOTES = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u02bc": "'"}


@lru_cache(maxsize=65536)
def _nfkc_char(ch: str) -> str:
    if ch.isascii():
        return ch
    if ch in _QUOTES:
        return _QUOTES[ch]
    m = unicodedata.normalize("NFKC", ch)
    if len(m) != 1:
        # Full-width space and a few marks expand or vanish; keep them length-neutral.
        return " " if ch.isspace() else ch
    return m


def nfkc(text: str) -> str:
    """Full-width letters, digits and punctuation to their ASCII forms (ｗｉｆｉ → wifi, ！→ !),
    curly quotes to straight ones.

    Chinese full-width sentence punctuation (，。！？) stays meaningful for clause splitting:
    NFKC turns ，into , and ！into !, both of which the clause splitter knows.
    """
    if text.isascii():
        return text
    return "".join(_nfkc_char(ch) for ch in text)


def lowercase(text: str) -> str:
    """Lower-case Latin letters, character by character."""
    low = text.lower()
    return low if len(low) == len(text) else _per_char(text, str.lower)


class TraditionalToSimplified:
    """Traditional → Simplified Chinese with OpenCC's phrase tables (``t2s`` by default).

    OpenCC is loaded lazily on the first text that contains Chinese characters.
    """

    def __init__(self, config: str = "t2s"):
        self.config = config
        self._cc = None

    def _converter(self):
        if self._cc is None:
            try:
                import opencc
            except ImportError as e:  # pragma: no cover - opencc is a core dependency
                raise DependencyError(
                    "Traditional Chinese conversion needs OpenCC: pip install opencc", E_DEPENDENCY
                ) from e
            self._cc = opencc.OpenCC(self.config)
        return self._cc

    def __call__(self, text: str) -> str:
        if not R.CJK_RE.search(text):
            return text
        cc = self._converter()
        out = cc.convert(text)
        if len(out) == len(text):
            return out
        return _per_char(text, cc.convert)

    def __getstate__(self):
        return {"config": self.config, "_cc": None}


def _mask(regex, text: str) -> str:
    return regex.sub(lambda m: " " * len(m.group(0)), text)


def mask_urls(text: str) -> str:
    """URLs become spaces: they carry no customer opinion and pollute the vocabulary."""
    if "http" not in text and "www" not in text:
        return text
    return _mask(R.URL_RE, text)


def mask_mentions(text: str) -> str:
    """@handles become spaces (a brand handle is not an opinion; keeps models brand-neutral)."""
    if "@" not in text:
        return text
    return _mask(R.MENTION_RE, text)


def strip_hashtag_marks(text: str) -> str:
    """``#话题#`` and ``#topic`` keep their words; the ``#`` marks become spaces."""
    return text.replace("#", " ") if "#" in text else text


def unescape_html(text: str) -> str:
    """``&amp;`` → ``&`` padded with spaces to the entity's length."""
    if "&" not in text:
        return text
    return R.HTML_ENTITY_RE.sub(lambda m: R.HTML_ENTITIES[m.group(1)].ljust(len(m.group(0))), text)


DEFAULT_STEPS = ("unescape_html", "mask_urls", "mask_mentions", "strip_hashtag_marks", "nfkc", "lowercase",
                 "traditional_to_simplified")


def make_step(name: str) -> Step:
    steps = {
        "unescape_html": unescape_html,
        "mask_urls": mask_urls,
        "mask_mentions": mask_mentions,
        "strip_hashtag_marks": strip_hashtag_marks,
        "nfkc": nfkc,
        "lowercase": lowercase,
        "traditional_to_simplified": TraditionalToSimplified(),
    }
    if name not in steps:
        from .errors import ModelError, E_UNKNOWN_COMPONENT
        raise ModelError(f"Unknown normalization step {name!r}; valid steps: {', '.join(steps)}", E_UNKNOWN_COMPONENT)
    return steps[name]


def normalize(text: str, steps: Sequence[Step]) -> str:
    """Apply ``steps`` in order; the result always has ``len(text)`` code points."""
    for step in steps:
        text = step(text)
    return text
