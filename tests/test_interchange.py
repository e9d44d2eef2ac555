"""The pure half of interchange: vCard and CSV reading and writing, matching,
duplicate scoring, merge plans and the calendar, on real files in fixtures/interchange."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmtui.domain.record import customer_from_data
from crmtui.interchange import ics
from crmtui.interchange.contact import Contact
from crmtui.interchange.csv_formats import MappingError, read_csv
from crmtui.interchange.matching import (Known, Matcher, apply_plan, find_duplicates, merge_plan, same_phone,
                                         update_plan)
from crmtui.interchange.vcard import decode_bytes, fold, read_vcards, unfold, write_vcard

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"


def cards(name: str):
    return read_vcards(decode_bytes((FIXTURES / name).read_bytes()), name)


# ---- vCard reading -------------------------------------------------------------------

def test_iphone_card_3_0_grouped_properties_yearless_birthday_and_photo_skipped():
    contacts, problems = cards("iphone-3.0.vcf")
    assert problems == []
    ana, nordbank = contacts
    assert ana.name == "Ana María López"
    assert ana.company == "Acme Corp" and ana.title == "CTO"
    assert ana.emails == ["ana@acme.example", "ana.lopez@mail.example"]
    assert ana.phones == ["+34 600 123 456", "+34 91 555 01 02"]
    assert ana.birthday == "03-12"  # Apple's year 1604 with X-APPLE-OMIT-YEAR
    assert ana.links == {"linkedin": "https://www.linkedin.com/in/ana-lopez-example",
                         "twitter": "https://twitter.com/ana_example"}
    assert ana.tags == ["fintech", "referral"]
    assert ana.notes.startswith("Met at the Fintech meetup in Madrid, introduced by Ben.")
    assert "10:00; hates" in ana.notes and ana.notes.endswith("Ñandú.")  # folded, unescaped
    assert "/9j" not in repr(ana) and "AAEC" not in repr(ana)  # the photo is not read into anything
    assert nordbank.name == "Nordbank AB"  # a company card: the name comes from ORG


def test_android_card_2_1_quoted_printable_and_soft_line_breaks():
    (anja,), problems = cards("android-2.1.vcf")
    assert problems == []
    assert anja.name == "Anja Müller"
    assert anja.company == "Spree Capital Gründerfonds"
    assert anja.notes == "Erste Zeile\r\nZweite Zeile mit äöü und Ende".replace("\r\n", "\r\n")
    assert anja.phones == ["+49 30 555 7788", "030 5557789"]
    assert anja.birthday == "1988-05-10"


def test_handwritten_4_0_tel_uris_quoted_params_and_escapes():
    (cagla,), problems = cards("handwritten-4.0.vcf")
    assert problems == []
    assert cagla.name == "Çağla Yıldız"
    assert cagla.phones == ["+90-532-555-0199"]
    assert cagla.emails == ["cagla@istanbul-analytics.example", "cagla.y@mail.example"]
    assert cagla.birthday == "06-26"
    assert cagla.tags == ["data", "istanbul, turkey"]
    assert cagla.links == {"github": "https://github.com/cagla-example"}
    assert cagla.notes == "Line one\nLine two, with a comma; and a semicolon\\ and a backslash"


@pytest.mark.parametrize("name, expected", [
    ("khard/juergen-3.0.vcf", ("Jürgen Weiß", "1972-04-12", ["Kunde", "Berlin"])),
    ("khard/yuki-4.0.vcf", ("Yuki Satō", "02-13", [])),
])
def test_cards_khard_wrote(name, expected):
    (contact,), problems = cards(name)
    assert problems == []
    assert (contact.name, contact.birthday, contact.tags) == expected
    if "juergen" in name:
        assert contact.notes.startswith("Sehr lange Notiz über das Projekt, die über mehrere Zeilen gefaltet werden")
        assert contact.phones == ["+49 171 555 0101", "030 1234567"]
        assert contact.links == {"website": "https://weiss-soehne.example"}
    else:
        assert contact.company == "東京データ株式会社"
        assert contact.notes == "二行のメモ。\nSecond line, with a comma."


def test_a_broken_file_reports_each_bad_card_with_its_place_and_reads_the_rest():
    contacts, problems = cards("broken.vcf")
    assert [c.name for c in contacts] == ["Good Person", "Bad Birthday", "Last One"]
    text = [str(p) for p in problems]
    assert "broken.vcf: card 2 (line 6): the card has no name (FN, N or ORG); skipped" in text
    assert "broken.vcf: card 3 (line 11): no END:VCARD before the next card; skipped" in text
    assert any("card 4 (line 15), line 19" in t and "not a vCard line" in t for t in text)
    assert any("card 4 (line 15): birthday 'sometime in May' is not a date" in t for t in text)
    assert sum(p.skipped for p in problems) == 2


def test_a_file_that_is_not_a_vcard():
    contacts, problems = read_vcards("name,email\nAna,ana@x\n", "people.csv")
    assert contacts == [] and "no BEGIN:VCARD" in str(problems[0])


def test_a_card_cut_short_at_the_end_of_the_file():
    contacts, problems = read_vcards("BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\n")
    assert [c.name for c in contacts] == ["A"]
    assert "card 2 (line 4): the card has no END:VCARD" in str(problems[0])


def test_unfold_and_fold_are_inverse_and_fold_never_splits_a_character():
    line = "NOTE:" + "äöü€😀" * 40
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert [text for _, text in unfold(folded)] == [line]


# ---- vCard writing and the round trip --------------------------------------------------

texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(lambda s: " ".join(s.split()))


@settings(max_examples=60, deadline=None)
@given(name=texts.filter(bool), company=texts, notes=st.text(st.characters(blacklist_categories=("Cs",)),
                                                            max_size=80),
       tags=st.lists(texts.filter(bool), max_size=3, unique_by=str.lower),
       birthday=st.sampled_from(["", "1984-03-12", "02-29", "12-31"]))
def test_write_then_read_gives_the_same_contact(name, company, notes, tags, birthday):
    contact = Contact(name=name, company=company, title="CTO; and, more", emails=["a@b.example"],
                      phones=["+34 600 123 456"], tags=tags, birthday=birthday, notes=notes,
                      links={"linkedin": "https://www.linkedin.com/in/x", "website": "https://a.example/b,c"},
                      uid="crmtui-x").tidy()
    (back,), problems = read_vcards(write_vcard(contact))
    assert problems == []
    back.where = ""
    contact.notes = contact.notes.replace("\r\n", "\n").replace("\r", "\n").strip()  # line ends become \n
    assert back == contact


# ---- CSV ---------------------------------------------------------------------------------

def csv_file(name: str, mapping=()):
    return read_csv((FIXTURES / name).read_text("utf-8-sig"), mapping)


def test_google_contacts_csv():
    result = csv_file("google.csv")
    assert result.format.name == "Google Contacts"
    ana, ben, orphan, juergen, zoe = result.contacts
    assert (ana.where, ben.where, orphan.where, juergen.where, zoe.where) == (
        "line 2", "line 5", "line 7", "line 8", "line 10")  # multi-line cells counted
    assert ana.emails == ["ana@acme.example", "ana.lopez@mail.example"]  # " ::: " in one cell
    assert ana.tags == ["Clients", "fintech"]  # "* myContacts" is Google's, not the user's
    assert ana.birthday == "03-12"
    assert ana.notes == 'Met at the "Fintech" meetup,\nMadrid.\nPrefers calls.'
    assert ana.links == {"linkedin": "https://www.linkedin.com/in/ana-lopez-example"}
    assert ben.title == "Freelance, Data Engineer"
    assert ben.phones == ["+49 151 2345 6789", "+49 30 1234 5678"]
    assert orphan.name == "orphan.email@example.com"  # only an email: it names the record
    assert juergen.name == "Jürgen Weiß" and juergen.birthday == ""  # Dr. is a prefix, 1972-02-30 no date
    assert [str(p) for p in result.problems] == [
        "line 8: birthday '1972-02-30' is not a date; imported without it"]


def test_linkedin_csv_with_its_preamble_and_bad_rows():
    result = csv_file("linkedin.csv")
    assert result.format.name == "LinkedIn Connections"
    assert [c.name for c in result.contacts] == ["Ana López", "Greta Lindqvist", "Sanne de Vries"]
    greta = result.contacts[1]
    assert greta.company == "Nordbank AB, Stockholm" and greta.title == "Head of Data"
    assert result.contacts[2].title == 'Lead "Data" Architect'
    assert greta.links == {"linkedin": "https://www.linkedin.com/in/greta-example"}
    assert [str(p) for p in result.problems] == [
        "line 8: 9 fields where the header has 7 (a comma outside quotes?); skipped",
        "line 9: no name, company or email in this row; skipped"]


def test_a_mapping_for_any_csv_and_an_unclosed_quote():
    result = csv_file("custom-semicolon.csv", ["Full Name=name,Mail=emails", "Stichworte=tags,Geburtstag=birthday"])
    henrik, lukasz, eleni = result.contacts
    assert henrik.emails == ["henrik@nordlys.example"] and henrik.tags == ["energy", "nordic"]
    assert henrik.birthday == "1969-03-02"  # 02.03.1969 is day.month.year
    assert henrik.company == "" and henrik.phones == []  # only what the mapping names
    assert eleni.name == 'Eleni "El" Papadopoulou'
    assert [str(p) for p in result.problems] == [
        "line 5: a quote opened here is not closed (the row runs to line 6); skipped"]


@pytest.mark.parametrize("mapping, message", [
    (["Nom=name"], "the file has no column 'Nom'; its columns are 'Full Name', 'Mail'"),
    (["Full Name=nom"], "'nom' is not a field"),
    (["Full Name"], "should be COLUMN=FIELD"),
    (["Firma=company"], "needs a column for the name"),
])
def test_mapping_mistakes_say_what_to_write(mapping, message):
    with pytest.raises(MappingError, match=message.replace("(", r"\(")):
        csv_file("custom-semicolon.csv", mapping)


def test_plain_column_names_need_no_mapping_and_unknown_ones_ask_for_one():
    result = read_csv("Name,E-mail,Mobile Phone,Organisation,Tags\nAna,ana@x.example,+34 600,Acme,a; b\n")
    (ana,) = result.contacts
    assert (ana.name, ana.emails, ana.phones, ana.company, ana.tags) == (
        "Ana", ["ana@x.example"], ["+34 600"], "Acme", ["a", "b"])
    with pytest.raises(MappingError, match="--map"):
        read_csv("col1,col2\nAna,x\n")


# ---- matching ------------------------------------------------------------------------

def test_match_by_email_then_phone_then_a_very_close_name():
    matcher = Matcher([Known("ana", "Ana López", "Acme", ("ANA@acme.example",), ("+34 600 123 456",)),
                       Known("ben", "Ben Schmidt", "Schmidt GmbH", (), ("+49 151 2345 6789",))])
    assert matcher.match(Contact(name="X", emails=["ana@ACME.example"])).reason == "email ana@ACME.example"
    assert matcher.match(Contact(name="X", phones=["600 123 456"])).handle == "ana"
    assert matcher.match(Contact(name="Ana Lopez")).handle == "ana"
    assert matcher.match(Contact(name="López, Ana")).handle == "ana"
    assert matcher.match(Contact(name="Ben Schmidt", company="Schmidt")).handle == "ben"
    assert matcher.match(Contact(name="Ben Schmidt", company="Another Firm")) is None  # a namesake elsewhere
    assert matcher.match(Contact(name="Bea Schmidt")) is None
    numbered = Matcher([Known("p1", "Person 190", "Company 30")])
    assert numbered.match(Contact(name="Person 1900", company="Company 30")) is None  # numbers are not typos
    assert numbered.match(Contact(name="Person 190", company="Company 60")) is None


@pytest.mark.parametrize("a, b, same", [
    ("+34 600 123 456", "600123456", True),
    ("+31 6 1234 5678", "06 1234 5678", True),
    ("0049 30 1234567", "+49 30 1234567", True),
    ("+351 912 345 678", "+86 139 1234 5678", False),  # same last nine digits, other countries
    ("+49 30 1234567", "+49 30 1234568", False),
    ("123", "123", False),
])
def test_same_phone(a, b, same):
    assert same_phone(a, b) is same


def test_duplicates_are_scored_and_explained():
    found = find_duplicates([
        Known("ana", "Ana López", "Acme Corp", ("ana@acme.example",)),
        Known("ana-2", "Ana Lopez", "ACME Corp.", ("ANA@acme.example",)),
        Known("ben", "Ben Schmidt", "", (), ("+49 151 2345 6789",)),
        Known("b-schmidt", "B. Schmidt", "", (), ("0151 2345 6789",)),
        Known("greta", "Greta Lindqvist", "Nordbank"),
        Known("greta-2", "Greta Lindqvist", "Other Bank"),  # a namesake at another company
        Known("jan", "Jan de Vries", ""),
        Known("jan-2", "Jan de Vries", ""),
    ])
    pairs = {(d.a, d.b): d for d in found}
    assert pairs[("ana", "ana-2")].score == 99
    assert pairs[("ana", "ana-2")].reasons[0] == "same email ana@acme.example"
    assert any("close names at Acme Corp" in r for r in pairs[("ana", "ana-2")].reasons)
    assert pairs[("b-schmidt", "ben")].score == 85
    assert pairs[("jan", "jan-2")].reasons == ["same name"]
    assert ("greta", "greta-2") not in pairs
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)


def test_an_update_fills_gaps_adds_items_and_keeps_the_books_values():
    data = {"name": "Ana López", "company": "Acme", "emails": "ana@acme.example", "birthday": "03-12",
            "notes": "Likes calls.", "links": {"web": "https://a.example"}}
    existing = customer_from_data("ana", data)
    incoming = Contact(name="Ana López", company="Acme Corp Intl", title="CTO", emails=["ANA@acme.example", "a@b.example"],
                       phones=["+34 600"], birthday="1984-03-12", notes="Likes calls.",
                       links={"website": "https://a.example/", "linkedin": "https://l.example"})
    plan = update_plan(existing, incoming, tags=["imported"])
    assert plan.set == {"title": "CTO", "birthday": date(1984, 3, 12)}  # the year is new; company differs: kept
    assert plan.add == {"emails": ["a@b.example"], "phones": ["+34 600"], "tags": ["imported"]}
    assert plan.links == {"linkedin": "https://l.example"}
    assert plan.notes == "" and plan.kept == ["company 'Acme' (the file has 'Acme Corp Intl')"]
    assert update_plan(existing, incoming, overwrite=True).set["company"] == "Acme Corp Intl"
    after = customer_from_data("ana", apply_plan(data, plan))
    assert update_plan(after, incoming).empty  # a second import changes nothing


def test_a_merge_plan_loses_nothing():
    keep = {"name": "Ana López", "company": "Acme", "emails": ["ana@acme.example"], "tags": ["fintech"],
            "birthday": "03-12", "notes": "Keep's notes.", "links": {"linkedin": "https://l.example/ana"},
            "interactions": [{"at": datetime(2026, 1, 1, 9), "kind": "call", "summary": "Hello"}]}
    other = {"name": "Ana Lopez", "company": "Acme Holding", "title": "CTO", "emails": ["ana@acme.example", "al@x.example"],
             "phones": "+34 600", "tags": ["Fintech", "vip"], "birthday": date(1984, 3, 12), "stage": "customer",
             "referred_by": "ana", "notes": "Other's notes.", "pronouns": "she/her",
             "links": {"linkedin": "https://l.example/ana", "web": "https://w.example"},
             "deals": [{"title": "Audit", "amount": 1000, "status": "won"}],
             "reminders": [{"due": date(2026, 7, 1), "text": "Call"}],
             "interactions": [{"at": datetime(2026, 1, 1, 9), "kind": "call", "summary": "Hello"},
                              {"at": datetime(2026, 2, 1, 9), "kind": "email", "summary": "Sent deck"}]}
    plan = merge_plan(keep, other, "ana", "ana-lopez-2", date(2026, 6, 15))
    merged = apply_plan(keep, plan)
    assert merged["emails"] == ["ana@acme.example", "al@x.example"]
    assert merged["phones"] == ["+34 600"] and merged["tags"] == ["fintech", "vip"]
    assert merged["birthday"] == date(1984, 3, 12) and merged["title"] == "CTO" and merged["pronouns"] == "she/her"
    assert "referred_by" not in merged  # it pointed at KEEP itself
    assert merged["links"] == {"linkedin": "https://l.example/ana", "web": "https://w.example"}
    assert len(merged["interactions"]) == 2 and merged["deals"] and merged["reminders"]
    assert merged["notes"] == ("Keep's notes.\n\nMerged from Ana Lopez (ana-lopez-2) on 2026-06-15:\n"
                               "company: Acme Holding\n\nOther's notes.")  # López and Lopez are one name
    customer_from_data("ana", merged)  # still a valid record


# ---- the calendar ----------------------------------------------------------------------

def test_calendar_events_have_stable_uids_and_parse_with_icalendar():
    icalendar = pytest.importorskip("icalendar")
    ana = customer_from_data("ana", {
        "name": "Ana López, CTO", "company": "Acme; Inc", "birthday": date(1984, 2, 29),
        "reminders": [{"due": date(2026, 7, 1), "text": "Send proposal\nwith numbers", "every": "3m"},
                      {"due": date(2026, 5, 1), "text": "Done one", "done": date(2026, 5, 2)}]})
    ben = customer_from_data("ben", {"name": "Ben", "birthday": "11-26"})
    text = ics.write_calendar([ben, ana], date(2026, 6, 15), datetime(2026, 6, 15, 9, 0))
    cal = icalendar.Calendar.from_ical(text)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"reminder-1-ana@crmtui", "birthday-ana@crmtui", "birthday-ben@crmtui"}
    reminder = events["reminder-1-ana@crmtui"]
    assert str(reminder["SUMMARY"]) == "Ana López, CTO: Send proposal\nwith numbers"
    assert reminder["DTSTART"].dt == date(2026, 7, 1)
    assert reminder["RRULE"]["FREQ"] == ["MONTHLY"] and reminder["RRULE"]["INTERVAL"] == [3]
    leap = events["birthday-ana@crmtui"]
    assert leap["DTSTART"].dt == date(1984, 2, 29) and leap["RRULE"]["BYMONTHDAY"] == [-1]
    assert events["birthday-ben@crmtui"]["DTSTART"].dt == date(2026, 11, 26)
    assert text == ics.write_calendar([ana, ben], date(2026, 6, 15), datetime(2026, 6, 15, 9, 0))


def test_undo_never_touches_a_file_someone_else_wrote_after_us(tmp_path):
    import tomlkit

    from crmtui.service import init_book
    from crmtui.storage.git_repo import GitRepo
    from crmtui.storage.transaction import WriteTransaction

    init_book(tmp_path)
    mine, theirs = tmp_path / "customers" / "a.toml", tmp_path / "customers" / "b.toml"
    tx = WriteTransaction(tmp_path, GitRepo(tmp_path))
    tx.create("customers/a.toml", tomlkit.parse('name = "Mine"\n'))
    tx.create("customers/b.toml", tomlkit.parse('name = "Mine too"\n'))
    theirs.write_text('name = "Someone else, meanwhile"\n', "utf-8")
    tx.rollback()
    assert not mine.exists()  # ours: put back as it was (absent)
    assert theirs.read_text("utf-8") == 'name = "Someone else, meanwhile"\n'  # theirs: left alone


# ---- the calendar, written with the icalendar library ---------------------------------------

def calendar_events(text: str) -> dict:
    icalendar = pytest.importorskip("icalendar")
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}


@settings(max_examples=80, deadline=None)
@given(name=texts.filter(bool), text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
       | st.sampled_from(["C:\\Notes\\New", "a\\nb", "\\N", "a;b,c\\", "x\r\ny\rz\n"]))
def test_calendar_text_reads_back_as_written(name, text):
    """Escaping, folding and line ends: what a calendar reads is the record's text (any line
    end read as \\n). A backslash and N stays two characters (icalendar's own escape would
    make it a line break)."""
    text = text.strip() or "x"
    ana = customer_from_data("ana", {"name": name, "reminders": [{"due": date(2026, 7, 1), "text": text}]})
    cal = ics.write_calendar([ana], date(2026, 6, 15), datetime(2026, 6, 15, 9, 0), name=f"{name}'s; calendar")
    assert all(len(line.encode()) <= 75 for line in cal.split("\r\n"))
    event = calendar_events(cal)["reminder-1-ana@crmtui"]
    wanted = f"{ana.name}: {ana.reminders[0].text}".replace("\r\n", "\n").replace("\r", "\n")
    assert str(event["SUMMARY"]) == wanted


def test_calendar_stamp_is_the_given_moment_in_utc_and_cadences_are_rules():
    from datetime import timedelta, timezone

    ana = customer_from_data("ana", {"name": "Ana", "reminders": [
        {"due": date(2026, 7, 1), "text": f"every {every}", "every": every} for every in ("2d", "1w", "3m", "1y")]
        + [{"due": date(2026, 7, 2), "text": "once"}]})
    berlin = timezone(timedelta(hours=2))
    text = ics.write_calendar([ana], date(2026, 6, 15), datetime(2026, 6, 15, 9, 30, 15, 999, tzinfo=berlin))
    assert "DTSTAMP:20260615T073015Z\r\n" in text and text.endswith("END:VCALENDAR\r\n")
    events = calendar_events(text)
    rules = {str(e["SUMMARY"]): dict(e["RRULE"]) if "RRULE" in e else None for e in events.values()}
    assert rules == {"Ana: every 2d": {"FREQ": ["DAILY"], "INTERVAL": [2]},
                     "Ana: every 1w": {"FREQ": ["WEEKLY"], "INTERVAL": [1]},
                     "Ana: every 3m": {"FREQ": ["MONTHLY"], "INTERVAL": [3]},
                     "Ana: every 1y": {"FREQ": ["YEARLY"], "INTERVAL": [1]},
                     "Ana: once": None}
    once = events["reminder-5-ana@crmtui"]
    assert (once["DTSTART"].dt, once["DTEND"].dt) == (date(2026, 7, 2), date(2026, 7, 3))
    assert [str(c) for c in once["CATEGORIES"].cats] == ["crmtui", "reminder"]
    assert str(once["TRANSP"]) == "TRANSPARENT"


def test_calendar_leaves_out_what_no_calendar_holds_and_says_so():
    far = customer_from_data("far", {"name": "Far", "birthday": date(9999, 12, 31), "reminders": [
        {"due": date(9999, 12, 31), "text": "too far"}, {"due": date(9999, 12, 30), "text": "last day"}]})
    notices = []
    events = calendar_events(ics.write_calendar([far], date(2026, 6, 15), datetime(2026, 6, 15, 9), notices=notices))
    assert set(events) == {"reminder-2-far@crmtui"}
    assert events["reminder-2-far@crmtui"]["DTEND"].dt == date(9999, 12, 31)
    assert notices == [
        "customers/far.toml: the reminder 'too far' is not in the calendar, because its due date 9999-12-31 is "
        "after 9999-12-30, the last day calendars and exports can hold; see crmtui check",
        "customers/far.toml: the birthday is not in the calendar, because its date 9999-12-31 is after 9999-12-30, "
        "the last day calendars and exports can hold; see crmtui check"]


def test_icalendar_is_imported_only_when_a_calendar_is_written():
    import subprocess
    import sys

    code = ("import sys\n"
            "from crmtui.interchange import ics\n"
            "from crmtui.usecases import interchange\n"
            "print('icalendar' in sys.modules)\n"
            "import datetime\n"
            "ics.write_calendar([], datetime.date(2026, 6, 15), datetime.datetime(2026, 6, 15, 9))\n"
            "print('icalendar' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
