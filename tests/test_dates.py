from datetime import date, datetime

import pytest

from crmtui.domain.dates import DateError, Duration, add_months, parse_duration, parse_when, relative_days

NOW = datetime(2026, 6, 15, 9, 0, 0)
TODAY = NOW.date()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30d", Duration(30, "d")),
        ("2w", Duration(2, "w")),
        ("3m", Duration(3, "m")),
        ("1y", Duration(1, "y")),
        (" 14D ", Duration(14, "d")),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


def test_duration_text():
    assert str(parse_duration("3m")) == "3m"
    assert parse_duration("1w").describe() == "1 week"
    assert parse_duration("30d").describe() == "30 days"


@pytest.mark.parametrize("text", ["", "d", "30", "0d", "3x", "-3d", "1.5m", "three weeks", "3 months"])
def test_parse_duration_rejects(text):
    with pytest.raises(DateError):
        parse_duration(text)


@pytest.mark.parametrize(
    "duration, start, expected",
    [
        ("10d", date(2026, 12, 25), date(2027, 1, 4)),
        ("2w", date(2026, 6, 15), date(2026, 6, 29)),
        ("1m", date(2026, 1, 31), date(2026, 2, 28)),  # clamps to the month's end
        ("1m", date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        ("3m", date(2026, 11, 30), date(2027, 2, 28)),
        ("1m", date(2026, 3, 31), date(2026, 4, 30)),
        ("12m", date(2026, 6, 15), date(2027, 6, 15)),
        ("1y", date(2028, 2, 29), date(2029, 2, 28)),
    ],
)
def test_duration_after(duration, start, expected):
    assert parse_duration(duration).after(start) == expected


def test_add_months_backwards():
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -2) == date(2025, 11, 15)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2026-12-01T14:30", datetime(2026, 12, 1, 14, 30)),
        ("2026-12-01T14:30:15", datetime(2026, 12, 1, 14, 30, 15)),
        ("2026-12-01 14:30", datetime(2026, 12, 1, 14, 30)),
        ("today", TODAY),
        ("Today", TODAY),
        ("tomorrow", date(2026, 6, 16)),
        ("yesterday", date(2026, 6, 14)),
        ("14d", date(2026, 6, 29)),
        ("2w", date(2026, 6, 29)),
        ("3m", date(2026, 9, 15)),
        ("1y", date(2027, 6, 15)),
        ("3d ago", date(2026, 6, 12)),
        ("2w ago", date(2026, 6, 1)),
        ("-2w", date(2026, 6, 1)),
        ("-1m", date(2026, 5, 15)),
        ("now", NOW),
    ],
)
def test_parse_when(text, expected):
    result = parse_when(text, NOW)
    assert result == expected
    assert type(result) is type(expected)  # a bare date stays a date


def test_parse_when_drops_timezone():
    assert parse_when("2026-12-01T14:30:00+02:00", NOW) == datetime(2026, 12, 1, 14, 30)


@pytest.mark.parametrize(
    "text", ["", "garbage", "next tuesday", "2026-13-01", "2026-02-30", "14", "0d", "3d from now", "--3d", "12/01/2026"]
)
def test_parse_when_rejects(text):
    with pytest.raises(DateError):
        parse_when(text, NOW)


def test_relative_days():
    assert relative_days(TODAY, TODAY) == "today"
    assert relative_days(date(2026, 6, 16), TODAY) == "tomorrow"
    assert relative_days(date(2026, 6, 14), TODAY) == "yesterday"
    assert relative_days(date(2026, 6, 20), TODAY) == "in 5 days"
    assert relative_days(date(2026, 6, 12), TODAY) == "3 days ago"


@pytest.mark.parametrize("duration, start", [("1y", date(9999, 6, 1)), ("30d", date(9999, 12, 15)),
                                             ("999999999999d", date(2026, 1, 1))])
def test_after_beyond_the_calendar_is_a_date_error(duration, start):
    with pytest.raises(DateError):
        parse_duration(duration).after(start)


@pytest.mark.parametrize("text", ["9999y", "99999999d", "9999y ago", "-99999999w"])
def test_parse_when_beyond_the_calendar_is_a_date_error(text):
    with pytest.raises(DateError):
        parse_when(text, NOW)
