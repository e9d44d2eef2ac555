"""crmtui's vCard reader and writer against vobject, the library khard reads vCards with.

crmtui keeps its own vCard parser and writer (why, with the figures: the docstring of
interchange/vcard.py). This file is what the comparison left behind:

- EXPECTED pins, for every vCard fixture, the Contacts and problems crmtui reads:
  the regression test of the reader. A new fixture must be added here.
- On the fixtures that vobject reads as well (VOBJECT_READS_THE_SAME), vobject's
  reading, mapped to Contacts the same way, must give the same Contacts; the others
  (VOBJECT_READS_WORSE) say what vobject 0.9.9 gets wrong on them.
- What crmtui writes, vobject reads back as the same contact (so khard does too).

scripts/bench_vcard.py times both readers on 10,000 cards with `vobject_contacts` below.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmtui.domain.dates import DateError
from crmtui.interchange.contact import Contact, Problem, normal_birthday
from crmtui.interchange.vcard import SKIPPED, decode_bytes, leave_out_invalid, link_name, read_vcards, write_vcard

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"

# What crmtui reads from each fixture: the Contacts (fields left empty are not listed) and
# the problems it reports, in order.
EXPECTED = {
    'android-2.1.vcf': (
        [{'name': 'Anja Müller',
          'company': 'Spree Capital Gründerfonds',
          'emails': ['anja@spreecapital.example'],
          'phones': ['+49 30 555 7788', '030 5557789'],
          'birthday': '1988-05-10',
          'notes': 'Erste Zeile\r\nZweite Zeile mit äöü und Ende',
          'where': 'android-2.1.vcf: card 1 (line 1)'}],
        []),
    'broken.vcf': (
        [{'name': 'Good Person', 'emails': ['good@example.com'], 'where': 'broken.vcf: card 1 (line 1)'},
         {'name': 'Bad Birthday', 'where': 'broken.vcf: card 4 (line 15)'},
         {'name': 'Last One', 'phones': ['+1 415 555 0100'], 'where': 'broken.vcf: card 5 (line 21)'}],
        ['broken.vcf: card 2 (line 6): the card has no name (FN, N or ORG); skipped',
         'broken.vcf: card 3 (line 11): no END:VCARD before the next card; skipped',
         "broken.vcf: card 4 (line 15): birthday 'sometime in May' is not a date; imported without it",
         "broken.vcf: card 4 (line 15), line 19: 'this line has no colon' is not a vCard line (NAME:value); line "
         'ignored']),
    'handwritten-4.0.vcf': (
        [{'name': 'Çağla Yıldız',
          'emails': ['cagla@istanbul-analytics.example', 'cagla.y@mail.example'],
          'phones': ['+90-532-555-0199'],
          'tags': ['data', 'istanbul, turkey'],
          'birthday': '06-26',
          'notes': 'Line one\nLine two, with a comma; and a semicolon\\ and a backslash',
          'links': {'github': 'https://github.com/cagla-example'},
          'where': 'handwritten-4.0.vcf: card 1 (line 1)'}],
        []),
    'iphone-3.0.vcf': (
        [{'name': 'Ana María López',
          'company': 'Acme Corp',
          'title': 'CTO',
          'emails': ['ana@acme.example', 'ana.lopez@mail.example'],
          'phones': ['+34 600 123 456', '+34 91 555 01 02'],
          'tags': ['fintech', 'referral'],
          'birthday': '03-12',
          'notes': 'Met at the Fintech meetup in Madrid, introduced by Ben. Prefers calls before 10:00; hates long '
                   'slide decks. Ñandú.',
          'links': {'linkedin': 'https://www.linkedin.com/in/ana-lopez-example',
                    'twitter': 'https://twitter.com/ana_example'},
          'where': 'iphone-3.0.vcf: card 1 (line 1)'},
         {'name': 'Nordbank AB',
          'company': 'Nordbank AB',
          'phones': ['+46 8 555 123 00'],
          'where': 'iphone-3.0.vcf: card 2 (line 36)'}],
        []),
    'khard/juergen-3.0.vcf': (
        [{'name': 'Jürgen Weiß',
          'company': 'Weiß & Söhne GmbH',
          'title': 'Geschäftsführer',
          'emails': ['juergen@weiss-soehne.example', 'jw@mail.example'],
          'phones': ['+49 171 555 0101', '030 1234567'],
          'tags': ['Kunde', 'Berlin'],
          'birthday': '1972-04-12',
          'notes': 'Sehr lange Notiz über das Projekt, die über mehrere Zeilen gefaltet werden muss, weil sie länger '
                   'als fünfundsiebzig Zeichen ist; mit Komma, Semikolon und Umlauten äöü.',
          'links': {'website': 'https://weiss-soehne.example'},
          'uid': 'b363djnpshluv4zlz14hd2hut4l1zlm59iso',
          'where': 'khard/juergen-3.0.vcf: card 1 (line 1)'}],
        []),
    'khard/yuki-4.0.vcf': (
        [{'name': 'Yuki Satō',
          'company': '東京データ株式会社',
          'title': 'CTO',
          'emails': ['yuki@tokyo-data.example'],
          'phones': ['+81 90 1234 5678'],
          'birthday': '02-13',
          'notes': '二行のメモ。\nSecond line, with a comma.',
          'uid': '173gjkag5lejg8j2sp5nkigoa1zat7tm9c8w',
          'where': 'khard/yuki-4.0.vcf: card 1 (line 1)'}],
        []),
    'phones/apple-mac-3.0.vcf': (
        [{'name': 'Hiroshi Tanaka',
          'emails': ['hiroshi@kaizen.example'],
          'phones': ['+81 3 5555 0101'],
          'birthday': '11-26',
          'notes': 'Kaizen Robotics; met at, the expo',
          'links': {'mastodon': 'https://mastodon.social/@hiroshi',
                    'linkedin': 'https://www.linkedin.com/in/hiroshi'},
          'where': 'phones/apple-mac-3.0.vcf: card 1 (line 1)'}],
        []),
    'phones/google-3.0.vcf': (
        [{'name': 'Ben Schmidt',
          'company': 'Schmidt GmbH',
          'title': 'Freelance, Data Engineer',
          'emails': ['ben@schmidt.example', 'ben.private@mail.example'],
          'phones': ['+49 151 2345 6789'],
          'tags': ['myContacts', 'Clients'],
          'birthday': '1990-07-14',
          'notes': 'Met in Berlin\nLikes coffee, not tea',
          'links': {'github': 'https://github.com/ben-example', 'website': 'http://ben.example/blog'},
          'where': 'phones/google-3.0.vcf: card 1 (line 1)'}],
        ['phones/google-3.0.vcf: card 2 (line 19): the card has no name (FN, N or ORG); skipped']),
    'phones/misc-4.0.vcf': (
        [{'name': 'Nordlicht Energie GmbH',
          'company': 'Nordlicht Energie GmbH',
          'emails': ['info@nordlicht.example'],
          'phones': ['+49-40-555-0100'],
          'notes': 'Two-line\nnote with afolded tab continuation',
          'links': {'website': 'https://nordlicht.example'},
          'where': 'phones/misc-4.0.vcf: card 1 (line 1)'},
         {'name': 'Inês Carvalho',
          'emails': ['ines@example.pt'],
          'phones': ['+351 912 345 678'],
          'where': 'phones/misc-4.0.vcf: card 2 (line 12)'},
         {'name': 'Zoë Martin',
          'phones': ['+33 6 12 34 56 78'],
          'tags': ['a,b', 'c'],
          'birthday': '1985-04-12',
          'where': 'phones/misc-4.0.vcf: card 3 (line 20)'}],
        ["phones/misc-4.0.vcf: card 2 (line 12): birthday 'circa 1980' is not a date; imported without it"]),
    'phones/nokia-2.1.vcf': (
        [{'name': 'Łukasz Wójcik',
          'emails': ['lukasz@example.pl'],
          'phones': ['+48 600 100 200', '+48 22 555 0000'],
          'tags': ['Praca'],
          'notes': 'Pierwsza linia\nDruga linia, z przecinkiem\nTrzecia',
          'where': 'phones/nokia-2.1.vcf: card 1 (line 1)'}],
        []),
    'phones/outlook-2.1.vcf': (
        [{'name': 'Hans Müller',
          'company': 'Grün & Partner GmbH',
          'title': 'Leiter Vertrieb, Region Nord',
          'emails': ['hans.mueller@gruen.example'],
          'phones': ['+49 40 555 1234', '+49 171 555 9876'],
          'birthday': '1970-01-15',
          # a known wart, pinned: a quoted-printable =E4 without CHARSET is decoded as UTF-8 (Windows-1252: ä)
          'notes': 'Termin am Montag, danach Angebot\r\nschicken; Preis �ndern',
          'links': {'website': 'http://www.gruen.example'},
          'where': 'phones/outlook-2.1.vcf: card 1 (line 1)'}],
        []),
}

# The fixtures vobject reads card for card as crmtui does (line numbers aside: vobject has none).
VOBJECT_READS_THE_SAME = ["handwritten-4.0.vcf", "iphone-3.0.vcf", "khard/juergen-3.0.vcf", "khard/yuki-4.0.vcf",
                          "phones/apple-mac-3.0.vcf", "phones/misc-4.0.vcf"]
# What vobject 0.9.9 does with the others (measured; see interchange/vcard.py). Where it raises,
# the whole file is lost, not only the card.
VOBJECT_READS_WORSE = {
    "android-2.1.vcf": "raises on the photo's cut base64 (the file is lost); without the photo it drops the "
                       "quoted-printable soft line breaks: 'Spree Capital Gründer', a note 'äöü=und Ende'",
    "broken.vcf": "stops at the card with no END:VCARD: 'Bad Birthday' and 'Last One' are lost, and no report "
                  "says which card or line",
    "phones/google-3.0.vcf": "keeps Google's escaped colon in URLs: 'https\\://github.com/ben-example'",
    "phones/nokia-2.1.vcf": "raises on the AGENT's nested card (the file is lost); without it, keeps only the first "
                            "line of the quoted-printable note and drops the TEL with an X-CUSTOM(...) parameter",
    "phones/outlook-2.1.vcf": "raises on a quoted-printable LABEL without CHARSET in a Windows-1252 file (the file "
                              "is lost); without it, cuts TITLE and NOTE at their first unescaped comma "
                              "('Leiter Vertrieb'; py-vobject/vobject#55)",
}


def fixture_names() -> list[str]:
    return sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.vcf"))


def fixture_text(name: str) -> str:
    return decode_bytes((FIXTURES / name).read_bytes())


def as_dict(contact: Contact, where: bool = True) -> dict:
    return {k: v for k, v in dataclasses.asdict(contact).items() if v and (where or k != "where")}


# ---- the regression test of crmtui's reader -------------------------------------------------

def test_every_vcard_fixture_has_its_expected_contacts():
    assert sorted(EXPECTED) == fixture_names()
    assert sorted(VOBJECT_READS_THE_SAME + list(VOBJECT_READS_WORSE)) == fixture_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_crmtui_reads_each_fixture_as_expected(name):
    contacts, problems = read_vcards(fixture_text(name), name)
    want_contacts, want_problems = EXPECTED[name]
    assert [as_dict(c) for c in contacts] == want_contacts
    assert [str(p) for p in problems] == want_problems


# ---- vobject, read the same way ---------------------------------------------------------------

def vobject_contacts(text: str) -> tuple[list[Contact], list[Problem]]:
    """The Contacts vobject's parser gives, mapped field by field as interchange.vcard maps its
    own parse (card_to_contact). vobject raises on what it cannot read: then nothing is read."""
    import vobject

    contacts, problems = [], []
    logging.getLogger("vobject.base").disabled = True  # it logs each line it skips
    for index, card in enumerate(vobject.readComponents(text, ignoreUnreadable=True), start=1):
        where = f"card {index}"
        contact, fn, n = Contact(where=where), "", None
        children = list(card.getChildren())
        labels = {ln.group: ln.value for ln in children if ln.name == "X-ABLABEL" and ln.group}
        for line in children:
            name, value = line.name, line.value
            if name in SKIPPED:
                continue
            if name == "FN":
                fn = value
            elif name == "N":
                n = value
            elif name == "ORG":
                contact.company = contact.company or (value[0] if isinstance(value, list) else value)
            elif name == "TITLE":
                contact.title = contact.title or value
            elif name == "EMAIL":
                contact.emails.append(value)
            elif name == "TEL":
                contact.phones.append(value)
            elif name == "BDAY":
                omit_year = line.params.get("X-APPLE-OMIT-YEAR")
                try:
                    birthday = normal_birthday(value)
                    if omit_year and birthday.startswith(omit_year[0] + "-"):
                        birthday = birthday[5:]
                    contact.birthday = birthday
                except DateError:
                    problems.append(Problem(where, f"birthday '{value.strip()}' is not a date; imported without it",
                                            skipped=False))
            elif name == "NOTE" and value.strip():
                contact.notes = f"{contact.notes}\n\n{value.strip()}" if contact.notes else value.strip()
            elif name == "CATEGORIES":
                contact.tags.extend(t.strip() for t in (value if isinstance(value, list) else [value]) if t.strip())
            elif name in ("URL", "X-SOCIALPROFILE") and value.strip():
                types = [t.lower() for t in line.params.get("TYPE", []) + line.singletonparams]
                label = labels.get(line.group, "")
                if label and not label.startswith("_$!<"):
                    types = [label.lower(), *types]
                contact.links[link_name(value.strip(), types, contact.links)] = value.strip()
            elif name == "UID":
                contact.uid = value.strip()
        contact.name = fn.strip()
        if not contact.name and n is not None:
            parts = [" ".join(p) if isinstance(p, list) else p for p in (n.given, n.additional, n.family, n.suffix)]
            contact.name = " ".join(p.replace(",", " ") for p in parts if p.strip())
        contact.name = contact.name or contact.company
        contact.tidy()
        problems += leave_out_invalid(contact, where)
        if contact.name:
            contacts.append(contact)
        else:
            problems.append(Problem(where, "the card has no name (FN, N or ORG); skipped"))
    return contacts, problems


@pytest.mark.parametrize("name", VOBJECT_READS_THE_SAME)
def test_vobject_reads_these_fixtures_as_crmtui_does(name):
    pytest.importorskip("vobject")
    contacts, problems = vobject_contacts(fixture_text(name))
    want_contacts, want_problems = EXPECTED[name]
    assert [as_dict(c, where=False) for c in contacts] == [{k: v for k, v in c.items() if k != "where"}
                                                          for c in want_contacts]
    assert [p.message for p in problems] == [text.split("): ", 1)[1] for text in want_problems]


# ---- what crmtui writes, vobject (and so khard) reads ------------------------------------------

texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(lambda s: " ".join(s.split()))


@settings(max_examples=60, deadline=None)
@given(name=texts.filter(bool), company=texts, title=texts,
       notes=st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
       tags=st.lists(texts.filter(bool), max_size=3, unique_by=str.lower),
       birthday=st.sampled_from(["", "1984-03-12", "02-29", "12-31"]))
def test_vobject_reads_what_crmtui_writes(name, company, title, notes, tags, birthday):
    pytest.importorskip("vobject")
    contact = Contact(name=name, company=company, title=title, emails=["a@b.example", "c@d.example"],
                      phones=["+34 600 123 456"], tags=tags, birthday=birthday, notes=notes,
                      links={"linkedin": "https://www.linkedin.com/in/x", "website": "https://a.example/b;c?d=1&e=2"},
                      uid="crmtui-x").tidy()
    (back,), problems = vobject_contacts(write_vcard(contact))
    assert problems == []
    contact.notes = contact.notes.replace("\r\n", "\n").replace("\r", "\n").strip()  # line ends become \n
    assert as_dict(back, where=False) == as_dict(contact, where=False)


@pytest.mark.xfail(reason="crmtui writes a URL as it is, and vobject (so khard) cuts it at an unescaped comma; "
                          "escaping ',' in URL values would fix it (left to the lead: it changes exported bytes)")
def test_vobject_reads_a_url_with_a_comma_that_crmtui_writes():
    pytest.importorskip("vobject")
    contact = Contact(name="Ana", links={"maps": "https://maps.example/@52.52,13.40,15z"})
    (back,), _ = vobject_contacts(write_vcard(contact))
    assert back.links == contact.links
