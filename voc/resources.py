"""Precompiled regexes and small tables shared by normalization, segmentation and clauses."""

from __future__ import annotations

import re
import unicodedata

# Lone surrogates (broken UTF-16 in scraped JSON): not encodable as UTF-8 anywhere downstream.
SURROGATE_RE = re.compile("[\ud800-\udfff]")

URL_RE = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\uff01-\uff0f\u4e00-\u9fff]+", re.I)
MENTION_RE = re.compile(r"(?<![\w@])@[\w\-\.\u4e00-\u9fff]{1,30}")
HTML_ENTITY_RE = re.compile(r"&(amp|lt|gt|quot|apos|#39|nbsp);")
HTML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "#39": "'", "nbsp": " "}

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_RE = re.compile(r"[A-Za-z]")
CJK_OR_DIGIT_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9]")

# Token patterns for the non-Chinese runs (English words with apostrophes, numbers, emoji).
EN_TOKEN_RE = re.compile(
    r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,:]\d+)*%?|[\U0001F000-\U0001FAFF\u2600-\u27BF]|[!?]"
)
CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Clause boundaries: strong punctuation always splits; commas split too, but short
# fragments are merged back (see voc.clauses).
CLAUSE_PUNCT_RE = re.compile(r"[。！？!?；;\n…]+|[，,、：:]|\.(?=\s|$)|(?<=[\u4e00-\u9fff])\.+|\s[-–—]+\s|~+|～+")

# Contrast markers open a new clause and mark it as the one that carries the weight
# ("the food was fine but the waiter was rude").
ZH_CONTRAST = ("但是", "但", "不过", "可是", "然而", "却", "只是", "就是有点", "唯一不足", "美中不足")
EN_CONTRAST = ("but", "however", "though", "although", "yet", "whereas", "except", "unfortunately", "still")
EN_CONTRAST_RE = re.compile(r"\b(?:but|however|though|although|yet|whereas|except|unfortunately)\b", re.I)
ZH_CONTRAST_RE = re.compile(r"但是|不过|可是|然而|美中不足|唯一不足|(?<![不非])但(?!愿|凡)")

# Negators: flip the polarity of what follows inside the clause: the next few words in
# Chinese, the rest of the clause (up to EN_NEGATION_WINDOW words) in English, where negation
# reaches further ("never had one single problem", "nothing really came across as outstanding").
ZH_NEGATORS = frozenset("不 没 没有 别 无 未 非 不是 不太 不怎么 没什么 并不 从不 从没 毫无 不够 不能 不会 没法 无法 莫".split())
EN_NEGATORS = frozenset(
    "not no never nothing nobody none neither nor cannot can't won't don't doesn't didn't isn't wasn't aren't "
    "weren't haven't hasn't hadn't shouldn't wouldn't couldn't ain't without hardly barely n't "
    # the same without the apostrophe, as typed in reviews and tweets
    "cant dont doesnt didnt isnt wasnt arent werent havent hasnt hadnt shouldnt wouldnt couldnt aint".split()
)
NEGATION_WINDOW = 3
EN_NEGATION_WINDOW = 8
MAX_NEGATION_WINDOW = max(NEGATION_WINDOW, EN_NEGATION_WINDOW)
# Punctuation that ends a negator's scope even inside one clause ("no complaints about the
# room, pretty clean": short fragments are merged into one clause, the negation stays left).
SCOPE_BREAK_RE = re.compile(r"[,，、;；:：.!?。！？…()（）\[\]【】–—~～]|\s-|-\s")
# A negator followed by one of these does not negate what comes after.
NEGATION_BREAKERS = frozenset({"wait", "stop", "help", "only", "just"})
EN_WORD_RE = re.compile(r"[A-Za-z]{2,}")


def is_content_char(ch: str) -> bool:
    """Letters, digits, Han characters and emoji/symbols; not punctuation or space."""
    return ch.isalnum() or unicodedata.category(ch) == "So"
LETTER_RE = re.compile(r"[^\W\d_]")


def negation_window(negator: str) -> int:
    """How many following words a negator reaches: Chinese negators a few, English ones
    most of a clause."""
    return EN_NEGATION_WINDOW if negator.isascii() else NEGATION_WINDOW
