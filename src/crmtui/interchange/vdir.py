"""A card for a vdir (one .vcf per contact, vdirsyncer's layout) that keeps what crmtui does not.

crmtui writes the fields a record holds (name, company, title, emails, phones, birthday,
links, tags, notes). A card from a phone holds more: addresses, photos, nicknames, X-
properties. When crmtui rewrites such a card because the record changed, `keep_foreign`
carries every line of those other properties over from the card as it was, so a sync
never drops a byte of the phone's that the record has no place for. Pure: text in, text out.
"""

from __future__ import annotations

import hashlib

from crmtui.interchange import vcard

# What write_vcard writes (or must decide itself): every other property of a card is the phone's.
MANAGED = {"BEGIN", "END", "VERSION", "UID", "FN", "N", "ORG", "TITLE", "EMAIL", "TEL", "BDAY", "URL",
           "X-SOCIALPROFILE", "CATEGORIES", "NOTE", "PRODID", "REV"}


def digest(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def foreign_lines(text: str) -> list[str]:
    """The content lines of a card's properties that crmtui does not write (unfolded)."""
    lines = [(vcard.parse_line(n, raw), raw) for n, raw in vcard.unfold(text)]
    managed_groups = {line.group for line, _ in lines if line is not None and line.group and line.name in MANAGED}
    kept = []
    for line, raw in lines:
        if line is None or line.name in MANAGED:
            continue
        if line.name == "X-ABLABEL" and line.group in managed_groups:
            continue  # the label of a URL or an email crmtui writes itself
        kept.append(raw)
    return kept


def keep_foreign(rendered: str, previous: str | None) -> str:
    """`rendered` (write_vcard's card) with the foreign lines of `previous` before END:VCARD."""
    if not previous:
        return rendered
    kept = foreign_lines(previous)
    if not kept:
        return rendered
    head, end, tail = rendered.rpartition("END:VCARD")
    return head + "".join(vcard.fold(line) + "\r\n" for line in kept) + end + tail


__all__ = ["MANAGED", "digest", "foreign_lines", "keep_foreign"]
