"""Personal data in customer texts: find it and mask it before anything is stored.

``redact(text)`` masks e-mail addresses, phone numbers (mainland mobile and landline, Hong
Kong/Taiwan, international ``+CC``), mainland resident ID numbers (18 characters with a valid
check digit) and bank card numbers (13–19 digits passing the Luhn check) with ``*``, one per
character: the text keeps its length, so every evidence offset stays valid. Order numbers,
prices and dates are left alone unless they look like one of these.
"""

from __future__ import annotations

import re
from typing import List, Tuple

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
ID_RE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                   r"(?![0-9A-Za-z])")
CARD_RE = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
PHONE_RE = re.compile(
    r"(?<![\d+])(?:"
    r"(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}"          # mainland mobile
    r"|(?:\+?86[ -]?)?0\d{2,3}[ -]?\d{7,8}"                  # mainland landline
    r"|(?:\+?852[ -]?)?[569]\d{3}[ -]?\d{4}(?=\D|$)"         # Hong Kong
    r"|(?:\+?886[ -]?|0)9\d{2}[ -]?\d{3}[ -]?\d{3}"          # Taiwan mobile
    r"|\+\d{1,3}[ -]?\(?\d{1,4}\)?[ -]?\d{3,4}[ -]?\d{3,4}"  # international, with +
    r"|\(?\d{3}\)?[ -.]\d{3}[ -.]\d{4}"                      # North American
    r")(?!\d)")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_id(s: str) -> bool:
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == s[17].upper()


def _luhn(digits: str) -> bool:
    total, alt = 0, False
    for c in reversed(digits):
        d = int(c)
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def find_pii(text: str) -> List[Tuple[int, int, str]]:
    """``(start, end, kind)`` of every piece of personal data, kinds: email, id_card, bank_card, phone."""
    found: List[Tuple[int, int, str]] = []
    taken = [False] * len(text)

    def add(s, e, kind):
        if not any(taken[s:e]):
            found.append((s, e, kind))
            for i in range(s, e):
                taken[i] = True

    for m in EMAIL_RE.finditer(text):
        add(m.start(), m.end(), "email")
    for m in ID_RE.finditer(text):
        if _valid_id(m.group()):
            add(m.start(), m.end(), "id_card")
    for m in CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            add(m.start(), m.end(), "bank_card")
        elif len(digits) >= 15:  # a long account/order number: not a card, and no phone hides in it
            for i in range(m.start(), m.end()):
                taken[i] = True
    for m in PHONE_RE.finditer(text):
        add(m.start(), m.end(), "phone")
    return sorted(found)


def redact(text: str, mask: str = "*") -> Tuple[str, List[Tuple[int, int, str]]]:
    """The text with personal data masked character for character, and what was masked."""
    spans = find_pii(text)
    if not spans:
        return text, []
    chars = list(text)
    for s, e, _ in spans:
        for i in range(s, e):
            if not chars[i].isspace() and chars[i] not in "-()":
                chars[i] = mask
    return "".join(chars), spans
