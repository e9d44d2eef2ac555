"""Fuzzy search over names, companies, emails, tags and phone digits.

Ranking is in bands: an exact name, handle or email beats a prefix of a name
word, which beats a prefix of a company, email or tag, which beats a substring, a substring beats a loose fuzzy match; within a band the
fuzzy score orders the hits.
"""

from __future__ import annotations

from typing import NamedTuple

import re
import unicodedata
from bisect import bisect_right


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


def sort_key(name: str) -> str:
    """For sorting names as people expect (Étienne with the Es); cheap for ASCII names."""
    return name.lower() if name.isascii() else fold(name)


class SearchEntry(NamedTuple):
    handle: str
    name: str
    company: str = ""
    emails: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


class Hit(NamedTuple):
    handle: str
    band: int
    score: float

    @property
    def rank(self) -> float:
        return self.band * 100 + self.score


class _Column:
    """One searchable field of every entry, as lines of one string, so a scan in C
    finds the entries that match (a Python loop over 10,000 entries per keystroke
    did not keep up)."""

    def __init__(self, values: list[str]):
        self.text = "\n".join(v.replace("\n", " ") for v in values)
        self.starts: list[int] = []
        offset = 0
        for value in values:
            self.starts.append(offset)
            offset += len(value) + 1

    def lines_matching(self, pattern: str) -> set[int]:
        """Entries with a match of `pattern` (MULTILINE) anywhere on their line."""
        starts = self.starts
        return {bisect_right(starts, m.start()) - 1 for m in re.finditer(pattern, self.text, re.MULTILINE)}

    def lines_containing(self, needle: str) -> set[int]:
        """Entries whose line contains `needle`; one find per matching line."""
        found, text, starts = set(), self.text, self.starts
        pos = text.find(needle)
        while pos != -1:
            line = bisect_right(starts, pos) - 1
            found.add(line)
            if line + 1 >= len(starts):
                break
            pos = text.find(needle, starts[line + 1])
        return found


_SEPARATOR = r"[ \t\-.,()]"  # not \s: it would match the newline between entries
BIG = 3000  # beyond this many hits, order a band by name length rather than scoring each


class SearchIndex:
    def __init__(self, entries: list[SearchEntry]):
        self.entries = sorted(entries, key=lambda e: fold(e.name))
        self._names = [fold(e.name) for e in self.entries]
        emails = [tuple(fold(x) for x in e.emails) for e in self.entries]
        tags = [tuple(fold(x) for x in e.tags) for e in self.entries]
        companies = [fold(e.company) for e in self.entries]
        self._haystacks = [" ".join((self._names[i], companies[i], *emails[i], *tags[i]))
                           for i in range(len(self.entries))]
        self._exact: dict[str, set[int]] = {}
        self._tagged: dict[str, set[int]] = {}
        for i, e in enumerate(self.entries):
            for key in (self._names[i], e.handle, *emails[i]):
                self._exact.setdefault(key, set()).add(i)
            for tag in tags[i]:
                self._tagged.setdefault(tag, set()).add(i)
        self._name_col = _Column(self._names)
        self._company_col = _Column(companies)
        self._email_col = _Column([" ".join(e) for e in emails])
        self._hay_col = _Column(self._haystacks)
        self._digit_col = _Column([" ".join(re.sub(r"\D", "", p) for p in e.phones) for e in self.entries])

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int | None = None, among: "set[int] | frozenset[int] | None" = None
               ) -> list[Hit]:
        """Hits for `query`, best first; with `among` (positions in `entries`), only those entries."""
        q = " ".join(fold(query).split())
        if not q:
            chosen = self.entries if among is None else [self.entries[i] for i in sorted(among)[:limit]]
            hits = [Hit(e.handle, 0, 0.0) for e in chosen]
            return hits[:limit] if limit else hits
        bands = self._bands(q, limit, among)
        fuzzy: dict[int, float] = {}
        wanted = limit or (len(self.entries) if among is None else len(among))
        if len(q) >= 3 and len(bands) < wanted:
            from rapidfuzz import fuzz, process  # here, so commands that never search start faster

            cutoff = FUZZY_CUTOFF_BESIDE_BETTER if bands else FUZZY_CUTOFF
            choices = self._haystacks if among is None else {i: self._haystacks[i] for i in among}
            for _, score, i in process.extract(q, choices, scorer=fuzz.partial_ratio,
                                               score_cutoff=cutoff, limit=None):
                if i not in bands:
                    fuzzy[i] = score
                    bands[i] = FUZZY
        return self._rank(q, bands, fuzzy, limit)

    def _bands(self, q: str, limit: int | None, among=None) -> dict[int, int]:
        """Entry -> its best band, for every entry that matches better than fuzzily."""
        e = re.escape(q)
        words = q.split()
        digits = re.sub(r"\D", "", q)
        found: dict[int, int] = {}

        def put(indices, band):
            if among is not None:
                indices = [i for i in indices if i in among]
            for i in indices:
                if found.get(i, 0) < band:
                    found[i] = band

        put(self._exact.get(q, ()), EXACT)
        put(self._name_col.lines_matching(rf"(?:^|(?<={_SEPARATOR})){e}"), NAME_PREFIX)
        put(self._company_col.lines_matching(rf"^{e}"), FIELD_PREFIX)
        put(self._email_col.lines_matching(rf"(?:^|(?<= )){e}"), FIELD_PREFIX)
        put(self._tagged.get(q, ()), FIELD_PREFIX)
        if limit and len(found) >= limit:
            return found  # substring hits would rank below a full page of better ones
        matching = None
        for word in words:
            lines = self._hay_col.lines_containing(word)
            matching = lines if matching is None else matching & lines
        put(matching or (), SUBSTRING)
        if len(digits) >= 3:
            put(self._digit_col.lines_containing(digits), SUBSTRING)
        return found

    def _rank(self, q: str, bands: dict[int, int], fuzzy: dict[int, float], limit: int | None) -> list[Hit]:
        from rapidfuzz import fuzz

        by_band: dict[int, list[int]] = {}
        for i, band in bands.items():
            by_band.setdefault(band, []).append(i)
        hits: list[Hit] = []
        for band in sorted(by_band, reverse=True):
            members = by_band[band]
            if len(members) > BIG:  # a one-letter query: shortest names first is what a person expects
                members.sort(key=lambda i: (len(self._names[i]), i))
                scored = [Hit(self.entries[i].handle, band, 0.0) for i in members]
            else:
                scored = [Hit(self.entries[i].handle, band,
                              max(fuzzy.get(i, 0.0), fuzz.ratio(q, self._names[i]))) for i in members]
                scored.sort(key=lambda h: -h.score)
            hits += scored
            if limit and len(hits) >= limit:
                break
        return hits[:limit] if limit else hits


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
