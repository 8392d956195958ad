"""Peer sentiment tools, run side by side with voc in ``voc eval`` when they are installed.

Chinese: SnowNLP and cnsenti; English: VADER and TextBlob. Each maps a text to a
``(label, score)`` with the decision rule its authors document:

* SnowNLP: ``sentiments`` is P(positive); > 0.6 positive, < 0.4 negative, else neutral.
* cnsenti: positive minus negative word counts; its sign.
* VADER: compound >= 0.05 positive, <= -0.05 negative (the VADER README's thresholds).
* TextBlob: polarity > 0 positive, < 0 negative, 0 neutral.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

Peer = Callable[[str], Tuple[str, float]]

PEER_LANGUAGES = {"snownlp": "zh", "cnsenti": "zh", "vader": "en", "textblob": "en"}


def _snownlp() -> Peer:
    from snownlp import SnowNLP

    def run(text: str):
        p = SnowNLP(text).sentiments
        return ("positive" if p > 0.6 else "negative" if p < 0.4 else "neutral"), 2 * p - 1

    return run


def _cnsenti() -> Peer:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        from cnsenti import Sentiment

        senti = Sentiment()

    def run(text: str):
        c = senti.sentiment_count(text)
        d = c["pos"] - c["neg"]
        return ("positive" if d > 0 else "negative" if d < 0 else "neutral"), float(d)

    return run


def _vader() -> Peer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()

    def run(text: str):
        s = sia.polarity_scores(text)["compound"]
        return ("positive" if s >= 0.05 else "negative" if s <= -0.05 else "neutral"), s

    return run


def _textblob() -> Peer:
    from textblob import TextBlob

    def run(text: str):
        p = TextBlob(text).sentiment.polarity
        return ("positive" if p > 0 else "negative" if p < 0 else "neutral"), p

    return run


_FACTORIES: Dict[str, Callable[[], Peer]] = {"snownlp": _snownlp, "cnsenti": _cnsenti, "vader": _vader,
                                              "textblob": _textblob}


def available_peers(languages=("zh", "en")) -> Dict[str, Peer]:
    """The installed peers for these languages (a peer that fails to import is left out)."""
    out = {}
    for name, lang in PEER_LANGUAGES.items():
        if lang not in languages:
            continue
        try:
            out[name] = _FACTORIES[name]()
        except Exception:  # noqa: BLE001 - a missing or broken optional peer is simply not compared
            continue
    return out


def missing_peers(found: Dict[str, Peer], languages=("zh", "en")) -> List[str]:
    return [n for n, lang in PEER_LANGUAGES.items() if lang in languages and n not in found]
