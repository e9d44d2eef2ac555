"""Calendar events in, meetings out: pure, no files (the caller hands the bytes in).

Read with `icalendar`. A recurring event's occurrences are expanded with
`recurring-ical-events` (built on icalendar): it applies RRULE, RDATE, EXDATE
and the exceptions a calendar keeps as components with a RECURRENCE-ID (a
meeting moved or renamed once), in the event's own time zone, which a plain
dateutil rrule does not. The expansion is bounded: only the window asked for
(from --since, or the series' start, up to now), and at most MAX_OCCURRENCES
occurrences per series, so an endless FREQ=MINUTELY rule costs nothing.

Times with a time zone become local time, like every interaction; floating
times (no zone) are taken as local time as they are; a TZID the file does not
define and no time-zone database knows is skipped with its place named.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import islice
from typing import NamedTuple

MAX_OCCURRENCES = 2000
_SKIPPED_CLASSES = ("PRIVATE", "CONFIDENTIAL")


class Event(NamedTuple):
    """One meeting that happened (an occurrence, for a recurring event)."""

    where: str
    uid: str
    start: datetime  # local time, naive
    summary: str
    people: tuple[str, ...]  # lower-case addresses of the organizer and the attendees who did not decline
    names: tuple[str, ...] = ()  # their names (CN), "" where none is given, in the order of `people`


class CalendarSkip(NamedTuple):
    where: str
    reason: str
    problem: bool = True  # False: skipped on purpose (cancelled, private), counted rather than named

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}; skipped"


def read_calendar(data: bytes, where: str, start: datetime, end: datetime
                  ) -> tuple[list[Event], list[CalendarSkip]]:
    """The events of one .ics file whose start falls in [start, end] (local, naive)."""
    import icalendar

    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as error:  # noqa: BLE001 - icalendar raises ValueError and friends for broken files
        return [], [CalendarSkip(where, f"not an iCalendar file icalendar can read ({_short(error)})")]
    events: list[Event] = []
    skips: list[CalendarSkip] = []
    for calendar in calendars:
        series: dict[str, list] = {}
        for component in calendar.walk("VEVENT"):
            uid = str(component.get("UID", "")).strip()
            series.setdefault(uid, []).append(component)
        timezones = calendar.walk("VTIMEZONE")
        for uid, components in series.items():
            label = _label(where, components[0], uid)
            if not uid:
                skips.append(CalendarSkip(label, "no UID, so importing it again could not find it again"))
                continue
            found, trouble = _occurrences(calendar, timezones, uid, components, label, start, end)
            events += found
            skips += trouble
    return events, skips


def _label(where: str, component, uid: str) -> str:
    summary = _text(component.get("SUMMARY"))
    name = f"'{summary[:40]}'" if summary else f"UID {uid[:40]}"
    return f"{where}: event {name}"


def _occurrences(calendar, timezones, uid: str, components: list, label: str, start: datetime, end: datetime
                 ) -> tuple[list[Event], list[CalendarSkip]]:
    for component in components:
        bad = _unknown_zone(component)
        if bad:
            return [], [CalendarSkip(label, f"time zone '{bad}' is not defined in the file and not known")]
    recurring = len(components) > 1 or any(c.get("RRULE") or c.get("RDATE") for c in components)
    if not recurring:
        occurrences = [components[0]]
    else:
        import icalendar
        import recurring_ical_events

        single = icalendar.Calendar()
        for key in ("VERSION", "PRODID"):
            if calendar.get(key) is not None:
                single.add(key, calendar.get(key))
        for zone in timezones:
            single.add_component(zone)
        for component in components:
            single.add_component(component)
        try:
            query = recurring_ical_events.of(single)
            occurrences, ended = [], False
            for occurrence in islice(query.after(start), MAX_OCCURRENCES):
                if _start(occurrence) is None or _start(occurrence) > end:
                    ended = True
                    break
                occurrences.append(occurrence)
        except Exception as error:  # noqa: BLE001 - a rule the library cannot expand
            return [], [CalendarSkip(label, f"its recurrence cannot be expanded ({_short(error)})")]
    events, skips = [], []
    if recurring and not ended and len(occurrences) == MAX_OCCURRENCES:
        skips.append(CalendarSkip(label, f"repeats more than {MAX_OCCURRENCES} times in the window; only the "
                                         f"first {MAX_OCCURRENCES} were read (narrow it with --since)"))
    for occurrence in occurrences:
        when = _start(occurrence)
        if when is None:
            skips.append(CalendarSkip(label, "no start time (DTSTART)"))
            continue
        if when < start or when > end:
            if not recurring:  # a series counts only the occurrences in the window
                skips.append(CalendarSkip(label, "before --since" if when < start else "not yet happened",
                                          problem=False))
            continue
        status = str(occurrence.get("STATUS", "")).upper()
        if status == "CANCELLED":
            skips.append(CalendarSkip(label, "cancelled", problem=False))
            continue
        if str(occurrence.get("CLASS", "")).upper() in _SKIPPED_CLASSES:
            skips.append(CalendarSkip(label, "private", problem=False))
            continue
        people = _people(occurrence)
        events.append(Event(label, uid, when, _text(occurrence.get("SUMMARY")), tuple(a for a, _ in people),
                            tuple(n for _, n in people)))
    return events, skips


def _unknown_zone(component) -> str | None:
    """The TZID of a time that icalendar could not give a zone (neither the file nor tzdata has it)."""
    for key in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = component.get(key)
        if prop is None:
            continue
        tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
        value = getattr(prop, "dt", None)
        if tzid and isinstance(value, datetime) and value.tzinfo is None:
            return str(tzid)
    return None


def _start(component) -> datetime | None:
    prop = component.get("DTSTART")
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone().replace(tzinfo=None)
            except (OverflowError, OSError, ValueError):
                return None
        return value.replace(microsecond=0)
    if isinstance(value, date):  # an all-day event: that day
        return datetime(value.year, value.month, value.day)
    return None


def _people(component) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    values = []
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        values.append(organizer)
    attendees = component.get("ATTENDEE")
    if attendees is not None:
        values += attendees if isinstance(attendees, list) else [attendees]
    for value in values:
        params = getattr(value, "params", {})
        if str(params.get("PARTSTAT", "")).upper() == "DECLINED":
            continue
        address = str(value).strip()
        if address.lower().startswith("mailto:"):
            address = address[7:]
        address = address.strip().lower()
        if "@" in address and address not in (a for a, _ in found):
            found.append((address, _text(params.get("CN"))))
    return found


def _text(value) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def _short(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:100]


def window(since: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """From --since (or far back) to now: meetings that happened."""
    return (since or datetime(1970, 1, 1)), now


def plan_meetings(events, known: dict[str, tuple[str, ...]], me, existing: dict[str, set[tuple[str, datetime]]],
                  kind: str = "meeting"):
    """One meeting per customer among an event's people (not you), once per (UID, start).

    Returns (new: handle -> rows oldest first, already: pairs found in the book or read twice,
    skipped: reason -> count, unknown: address -> events, names: address -> a name seen)."""
    from collections import Counter

    mine = {m.lower() for m in me}
    seen = {h: set(keys) for h, keys in existing.items()}
    new: dict[str, list[dict]] = {}
    skipped: Counter = Counter()
    unknown: Counter = Counter()
    names: dict[str, str] = {}
    already = 0
    for event in events:
        others = [p for p in event.people if p not in mine]
        if not others:
            skipped["no one but you" if event.people else "no attendees"] += 1
            continue
        handles: list[str] = []
        for address in others:
            found = known.get(address)
            if found:
                handles += [h for h in found if h not in handles]
            else:
                unknown[address] += 1
                name = dict(zip(event.people, event.names)).get(address) if event.names else ""
                if name and address not in names:
                    names[address] = name
        if not handles:
            skipped["no customer among its attendees"] += 1
            continue
        for handle in handles:
            keys = seen.setdefault(handle, set())
            key = (event.uid, event.start)
            if key in keys:
                already += 1
                continue
            keys.add(key)
            new.setdefault(handle, []).append({"at": event.start, "kind": kind,
                                               "summary": event.summary or "(no title)", "event_uid": event.uid})
    for rows in new.values():
        rows.sort(key=lambda row: row["at"])
    return new, already, skipped, unknown, names


__all__ = ["Event", "CalendarSkip", "read_calendar", "window", "plan_meetings", "MAX_OCCURRENCES"]
