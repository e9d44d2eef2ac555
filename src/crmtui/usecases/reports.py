"""Reports: what the history knows over a period (retention, the pyramid's movement, the
life cycle, referrals, attention), from the book's git history read once and cached."""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from crmtui.domain.dates import DateError, InvalidValue, as_date
from crmtui.domain.report import Report, build_report, choose_period
from crmtui.errors import CrmError


class ReportUseCases:
    def report(self, start: str | date | None = None, end: str | date | None = None,
               progress: Callable[[int, int], None] | None = None) -> Report:
        """The report for the period from `start` to `end` (both days included; WHEN forms, or
        None for the defaults: the twelve months ending today, against the twelve before).

        The history is read once and kept in .git/crmtui/; a first run on a large book takes a
        few seconds, told through `progress(done, total)`; later runs read only new commits.
        """
        from crmtui.storage import history_scan

        today = self.today()
        first, last = self._report_day(start, "--from"), self._report_day(end, "--to")
        if not self.git.is_repo():
            raise CrmError(f"{self.book.root} has no git repository, so there is no history to report on; "
                           f"crmtui init makes one")
        state = self.book.state_dir()
        head = self.git.head()
        if head is None:
            raise CrmError("the book has no commits yet, so there is no history to report on")
        try:
            choose_period(today, first, last, None)  # what is wrong without the history, said at once
            key = (head, today, first, last)
            cached = history_scan.read_report(state, key)
            if cached is not None:
                return cached
            history = history_scan.HistoryScan(self.git, state).update(progress)
            period = choose_period(today, first, last, history.began)
        except InvalidValue as error:
            raise CrmError(str(error)) from None
        report = build_report(history, period, today)
        history_scan.save_report(state, key, report)
        return report

    def _report_day(self, value: str | date | None, option: str) -> date | None:
        if value is None or isinstance(value, date):
            return as_date(value) if isinstance(value, datetime) else value
        try:
            return as_date(self._when(value, self.now()))
        except CrmError as error:
            raise CrmError(f"{option}: {error}") from None
        except DateError as error:  # pragma: no cover - _when turns these into CrmError
            raise CrmError(f"{option}: {error}") from None
