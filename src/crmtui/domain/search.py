"""Fuzzy search over names, companies, emails, tags and phone digits.

Ranking is in bands: an exact name, handle or email beats a prefix of a name
word, which beats a prefix of a company, email or tag, which beats a substring, a substring beats a loose fuzzy match; within a band the
fuzzy score orders the hits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

EXACT, NAME_PREFIX, FIELD_PREFIX, SUBSTRING, FUZZY = 5, 4, 3, 2, 1
FUZZY_CUTOFF = 80
# When something matched by exact, prefix or substring, only near-certain fuzzy hits join it.
FUZZY_CUTOFF_BESIDE_BETTER = 92
_SPECIAL = str.maketrans({"ß": "ss", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "æ": "ae", "œ": "oe", "đ": "d", "ı": "i"})


def fold(text: str) -> str:
    """Lowercase, without accents: 'Jürgen Weiß' -> 'jurgen weiss'."""
    text = text.lower().translate(_SPECIAL)  # lowercase first: the table maps Æ and Œ through æ and œ
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@dataclass(frozen=True)
class SearchEntry:
    handle: str
    name: str
    company: str = ""
    emails: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    handle: str
    band: int
    score: float

    @property
    def rank(self) -> float:
        return self.band * 100 + self.score


class SearchIndex:
    def __init__(self, entries: list[SearchEntry]):
        self.entries = sorted(entries, key=lambda e: fold(e.name))
        self._names = [fold(e.name) for e in self.entries]
        self._words = [tuple(re.split(r"[\s\-.,()]+", n)) for n in self._names]
        self._emails = [tuple(fold(x) for x in e.emails) for e in self.entries]
        self._tags = [tuple(fold(x) for x in e.tags) for e in self.entries]
        self._companies = [fold(e.company) for e in self.entries]
        self._digits = [" ".join(re.sub(r"\D", "", p) for p in e.phones) for e in self.entries]
        self._haystacks = [
            " ".join((self._names[i], self._companies[i], *self._emails[i], *self._tags[i]))
            for i, e in enumerate(self.entries)
        ]

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int | None = None) -> list[Hit]:
        q = " ".join(fold(query).split())
        if not q:
            hits = [Hit(e.handle, 0, 0.0) for e in self.entries]
            return hits[:limit] if limit else hits
        words = q.split()
        digits = re.sub(r"\D", "", q) if len(re.sub(r"\D", "", q)) >= 3 else ""
        bands: dict[int, int] = {}
        for i in range(len(self.entries)):
            band = self._band(i, q, words, digits)
            if band:
                bands[i] = band
        scores = {}
        if len(q) >= 3:
            cutoff = FUZZY_CUTOFF_BESIDE_BETTER if bands else FUZZY_CUTOFF
            for _, score, i in process.extract(
                q, self._haystacks, scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=None
            ):
                scores[i] = score
                bands.setdefault(i, FUZZY)
        name_scores = {i: fuzz.ratio(q, self._names[i]) for i in bands}
        hits = [
            Hit(self.entries[i].handle, band, max(scores.get(i, 0.0), name_scores[i]) if band == FUZZY
                else name_scores[i])
            for i, band in bands.items()
        ]
        hits.sort(key=lambda h: -h.rank)
        return hits[:limit] if limit else hits

    def _band(self, i: int, q: str, words: list[str], digits: str) -> int:
        name = self._names[i]
        if q == name or q == self.entries[i].handle or q in self._emails[i]:
            return EXACT
        if name.startswith(q) or any(w.startswith(q) for w in self._words[i]):
            return NAME_PREFIX
        if any(e.startswith(q) for e in self._emails[i]) or self._companies[i].startswith(q) or q in self._tags[i]:
            return FIELD_PREFIX
        if all(w in self._haystacks[i] for w in words):
            return SUBSTRING
        if digits and digits in self._digits[i]:
            return SUBSTRING
        return 0


SURE_FUZZY = 90  # a fuzzy hit must be this close to name someone on its own


def clear_winner(hits: list[Hit]) -> Hit | None:
    """The one hit a WHO argument clearly means, or None when it is ambiguous or too loose.

    WHO arguments lead to writes, so a loose fuzzy match never wins by itself.
    """
    if not hits:
        return None
    first = hits[0]
    if first.band == FUZZY and first.score < SURE_FUZZY:
        return None
    if len(hits) == 1:
        return first
    second = hits[1]
    if first.band > second.band and first.band >= SUBSTRING:
        return first
    if first.band == second.band == FUZZY and first.score - second.score >= 15:
        return first
    return None
