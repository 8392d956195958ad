"""Per-text language detection: ``zh``, ``en``, ``mixed`` or ``other``.

Script counting is enough for the two languages voc analyses and is what a customer's
mixed post ("wifi 太慢了") needs: a count of Han characters against Latin words.
"""

from __future__ import annotations

from . import resources as R

LANGUAGES = ("zh", "en", "mixed", "other")


def detect_language(text: str) -> str:
    """Return ``zh``, ``en``, ``mixed`` or ``other`` for a (normalized or raw) text.

    ``mixed``: both a real share of Han characters and of English words (at least two
    English words and at least 20% of the word-level units each side).
    """
    han = len(R.CJK_RE.findall(text))
    words = len(R.EN_WORD_RE.findall(text))
    if han == 0 and words == 0:
        return "other"
    if han == 0:
        return "en" if _looks_english(text, words) else "other"
    # A Chinese character is roughly a syllable; ~1.7 characters make a word.
    zh_units = han / 1.7
    if words >= 2 and words / (words + zh_units) >= 0.2:
        return "mixed"
    return "zh"


def _looks_english(text: str, words: int) -> bool:
    latin = len(R.LATIN_RE.findall(text))
    if latin == sum(1 for _ in R.EN_WORD_RE.finditer(text)) == 0:
        return False
    letters = len(R.LETTER_RE.findall(text))
    return latin >= max(1, 0.6 * letters)
