import pytest

from crmtui.domain.search import (
    EXACT, FUZZY, NAME_PREFIX, SUBSTRING, Hit, SearchEntry, SearchIndex, clear_winner, fold,
)

PEOPLE = [
    SearchEntry("ana-lopez", "Ana López", "Acme Corp", ("ana@acme.example",), ("fintech", "referral"),
                ("+34 600 123 456",)),
    SearchEntry("juergen-weiss", "Jürgen Weiß", "Weiß & Söhne", ("jw@weiss.example",), ("manufacturing",)),
    SearchEntry("greta-lindqvist", "Greta Lindqvist", "Nordbank", ("greta@nordbank.example",), ("fintech",)),
    SearchEntry("ben-schmidt", "Ben Schmidt", "Schmidt GmbH", ("ben@schmidt.example",), (), ("+49 30 555 0101",)),
    SearchEntry("anabel-ruiz", "Anabel Ruiz", "Ruiz SL", ("anabel@ruiz.example",)),
    SearchEntry("mariana-costa", "Mariana Costa", "Costa Lda", ("mc@costa.example",)),
    SearchEntry("tom-hanna", "Tom Hanna", "Hanna Inc", ("tom@hanna.example",)),
    SearchEntry("chen-wei", "陈伟", "Shenzhen Trading", ("chen@sz.example",)),
]


@pytest.fixture(scope="module")
def index():
    return SearchIndex(PEOPLE)


def handles(index, query, limit=None):
    return [h.handle for h in index.search(query, limit)]


def test_fold():
    assert fold("Jürgen Weiß") == "jurgen weiss"
    assert fold("López") == "lopez"
    assert fold("Søren Łukasz Æble") == "soren lukasz aeble"


def test_exact_name_beats_fuzzy(index):
    hits = index.search("ana lopez")
    assert hits[0].handle == "ana-lopez"
    assert hits[0].band == EXACT
    assert all(h.band < EXACT for h in hits[1:])
    assert clear_winner(hits).handle == "ana-lopez"


def test_handle_is_exact(index):
    assert index.search("ben-schmidt")[0].band == EXACT


def test_name_prefix_beats_substring(index):
    # "ana" starts Ana López's and Anabel's names, and is only inside "Mariana"
    hits = index.search("ana")
    bands = {h.handle: h.band for h in hits}
    assert bands["ana-lopez"] == NAME_PREFIX
    assert bands["anabel-ruiz"] == NAME_PREFIX
    assert bands["mariana-costa"] == SUBSTRING
    order = [h.handle for h in hits]
    assert order.index("ana-lopez") < order.index("mariana-costa")
    assert order.index("anabel-ruiz") < order.index("mariana-costa")
    assert "tom-hanna" not in order
    assert set(order[:2]) == {"ana-lopez", "anabel-ruiz"}


def test_exact_email_beats_a_name_with_the_same_letters():
    entries = [
        SearchEntry("mc-hammer", "Mc Hammer"),
        SearchEntry("mcx", "Mcx Other", emails=("mc@costa.example",)),
        SearchEntry("mccosta-example", "Mccosta Example"),
    ]
    hits = SearchIndex(entries).search("mc@costa.example")
    assert hits[0].handle == "mcx"
    assert hits[0].band == EXACT
    assert clear_winner(hits).handle == "mcx"


def test_email_query_finds_its_owner(index):
    assert handles(index, "ana@acme.example")[0] == "ana-lopez"
    assert handles(index, "greta@nordbank.example")[0] == "greta-lindqvist"


@pytest.mark.parametrize(
    "query, handle",
    [
        ("jurgen weiss", "juergen-weiss"),
        ("JURGEN", "juergen-weiss"),
        ("weiß", "juergen-weiss"),
        ("lopez", "ana-lopez"),
        ("López", "ana-lopez"),
        ("ana lópez", "ana-lopez"),
    ],
)
def test_accent_folding(index, query, handle):
    hits = index.search(query)
    assert hits[0].handle == handle
    assert clear_winner(hits).handle == handle


@pytest.mark.parametrize("query", ["600123", "600 123 456", "+34 600 123 456", "600-123"])
def test_phone_digits(index, query):
    assert handles(index, query)[0] == "ana-lopez"


def test_phone_needs_three_digits(index):
    assert "ana-lopez" not in handles(index, "60")


def test_a_typo_finds_the_person(index):
    hits = index.search("gretta lindkvist")
    assert hits[0].handle == "greta-lindqvist"
    assert clear_winner(hits).handle == "greta-lindqvist"


def test_company_and_tag(index):
    assert handles(index, "nordbank")[0] == "greta-lindqvist"
    assert set(handles(index, "fintech")[:2]) == {"ana-lopez", "greta-lindqvist"}


def test_cjk_name(index):
    assert handles(index, "陈伟")[0] == "chen-wei"


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_lists_everyone(index, query):
    assert sorted(handles(index, query)) == sorted(e.handle for e in PEOPLE)
    assert len(handles(index, query, limit=3)) == 3


def test_nothing_matches(index):
    assert index.search("zzzzqqqq") == []


def test_limit(index):
    assert len(index.search("a", limit=2)) <= 2


def test_clear_winner():
    assert clear_winner([]) is None
    assert clear_winner([Hit("a", FUZZY, 81)]) is None  # a loose match never names someone by itself
    assert clear_winner([Hit("a", FUZZY, 91)]).handle == "a"
    assert clear_winner([Hit("a", EXACT, 100), Hit("b", NAME_PREFIX, 90)]).handle == "a"
    assert clear_winner([Hit("a", NAME_PREFIX, 90), Hit("b", NAME_PREFIX, 60)]) is None
    assert clear_winner([Hit("a", FUZZY, 95), Hit("b", FUZZY, 79)]).handle == "a"
    assert clear_winner([Hit("a", FUZZY, 90), Hit("b", FUZZY, 85)]) is None
    assert clear_winner([Hit("a", FUZZY, 99), Hit("b", 0, 0)]) is None  # a fuzzy lead over nothing is not enough


def test_clear_vs_ambiguous_on_real_hits(index):
    assert clear_winner(index.search("ana")) is None  # Ana López and Anabel Ruiz
    assert clear_winner(index.search("anabel")).handle == "anabel-ruiz"
    assert clear_winner(index.search("schmidt")).handle == "ben-schmidt"


def test_a_new_reader_reuses_the_index_when_nothing_searchable_changed(book):
    from datetime import datetime

    from crmtui.service import Service

    now = datetime(2026, 6, 15, 9, 0)
    first = Service.open(book, now=lambda: now)
    first.add_customer("Ana López", company="Acme")
    first.build_index()
    second = Service.open(book, now=lambda: now)
    second.log_interaction("ana-lopez", "Call", kind="call")  # touches no searchable field
    second.build_index(first)
    assert second.index is first.index
    third = Service.open(book, now=lambda: now)
    third.add_customer("Ben Schmidt")
    third.build_index(second)
    assert third.index is not second.index and [c.handle for c, _ in third.search("ben")] == ["ben-schmidt"]
