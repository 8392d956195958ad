"""Segmentation: jieba for Chinese behind a private tokenizer, a regex tokenizer for English.

Tokens are ``(text, start, end)`` tuples over the normalized text, whose offsets equal
the raw text's offsets (see :mod:`voc.normalize`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import List, Tuple

from . import resources as R

Token = Tuple[str, int, int]


class Segmenter:
    """Split a normalized text into word tokens with offsets.

    Parameters
    ----------
    user_dict : path of a jieba user dictionary (``word [freq] [tag]`` per line) whose
        words must stay whole — every lexicon term is in it, or it could never match.
    hmm : let jieba guess unknown words with its HMM (slower, rarely needed for short posts
        once the user dictionary holds the domain words).

    jieba itself is initialised on the first Chinese text, not when the pipeline loads.
    """

    def __init__(self, user_dict: str | os.PathLike | None = None, hmm: bool = False):
        self.user_dict = str(user_dict) if user_dict else None
        self.hmm = hmm
        self._jieba = None

    def _tokenizer(self):
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.tmp_dir = tempfile.gettempdir()
            tk.initialize()
            if self.user_dict:
                tk.load_userdict(self.user_dict)
            self._jieba = tk
        return self._jieba

    def __call__(self, text: str, language: str) -> List[Token]:
        if language in ("zh", "mixed") or R.CJK_RE.search(text):
            return self._tokenize_zh(text)
        return tokenize_en(text)

    def _tokenize_zh(self, text: str) -> List[Token]:
        out: List[Token] = []
        for word, start, end in self._tokenizer().tokenize(text, HMM=self.hmm):
            if word.isascii():
                # jieba keeps runs such as "app" or "3.5" together; re-split them the English way.
                if word.strip():
                    out.extend((t, start + s, start + e) for t, s, e in tokenize_en(word))
            elif R.is_content_char(word[0]):
                out.append((word, start, end))
        return out

    def __getstate__(self):
        return {"user_dict": self.user_dict, "hmm": self.hmm, "_jieba": None}


def tokenize_en(text: str) -> List[Token]:
    return [(m.group(0), m.start(), m.end()) for m in R.EN_TOKEN_RE.finditer(text)]
