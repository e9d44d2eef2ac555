"""Searching with the query language (domain/query.py), and the saved views of crm.toml.

The TUI's search box, `crmtui search` and `crmtui list --where/--view` all come here.
A query of plain words is the fuzzy search as it always was (one call into the index).
Filters are worked out over the snapshot's summaries, once per filter and kept until
the snapshot changes, so typing after `tier:gold ` ranks words among the Gold customers
without testing the filter again.
"""

from __future__ import annotations

from typing import NamedTuple

from crmtui.domain.query import Context, Filter, Query, QueryError, parse, parse_partly
from crmtui.domain.record import Customer
from crmtui.domain.search import Hit
from crmtui.errors import CrmError

_KEPT = 64  # filters whose matches are kept per snapshot


class Found(NamedTuple):
    """What a query found, best first (or by name, with filters alone)."""

    hits: list[tuple[Customer, Hit]]
    total: int | None  # how many match in all; None when a limit cut a plain search short
    query: Query


class _Memo(NamedTuple):
    snapshot: object
    index: object
    today: object
    context: Context
    matches: dict  # Filter -> frozenset of index positions
    customers: list  # the customer at each position of the index's entries


class SearchUseCases:
    def parse_query(self, text: str) -> Query:
        """The query in `text`, or CrmError with the sentence saying what is wrong."""
        try:
            return parse(text)
        except QueryError as error:
            raise CrmError(str(error)) from None

    def parse_query_partly(self, text: str) -> tuple[Query, list[str]]:
        """The valid part of a query, and a sentence for each token left out."""
        return parse_partly(text)

    def find(self, text: str | Query, limit: int | None = None) -> Found:
        """Customers matching a query of the search language: plain words ranked as the
        fuzzy search ranks them, and every filter (AND). CrmError for a query that does not parse."""
        query = text if isinstance(text, Query) else self.parse_query(text)
        index = self.index
        if query.is_plain:
            hits = index.search(query.text, limit)
            total = len(hits) if limit is None or len(hits) < limit else None
        else:
            among = self._positions(query.filters)
            hits = index.search(query.text, limit, among)
            if not query.text.strip():
                total = len(among)
            else:
                total = len(hits) if limit is None or len(hits) < limit else None
        customer = self.snapshot.customer
        return Found([(customer(h.handle), h) for h in hits], total, query)

    def query_context(self) -> Context:
        """The evaluation context of the current snapshot and day (kept with its results)."""
        return self._query_memo().context

    def _query_memo(self) -> _Memo:
        index, snapshot, today = self.index, self.snapshot, self.today()
        memo = self.__dict__.get("_search_memo")
        if memo is None or memo.snapshot is not snapshot or memo.index is not index or memo.today != today:
            context = Context(today, snapshot.settings)
            earlier = memo.context if memo is not None else self.__dict__.pop("_search_earlier", None)
            if earlier is not None:
                context.adopt(earlier)
            customer = snapshot.customer
            memo = _Memo(snapshot, index, today, context, {}, [customer(e.handle) for e in index.entries])
            self._search_memo = memo
        return memo

    def keep_search_work(self, previous: "SearchUseCases | None") -> None:
        """Start from what `previous` (the session this one replaces, as the TUI's readers do)
        worked out per customer: after a write, `due:today` is not worked out for everyone again."""
        if previous is None:
            return
        memo = previous.__dict__.get("_search_memo")
        earlier = memo.context if memo is not None else previous.__dict__.get("_search_earlier")
        if earlier is not None:
            self._search_earlier = earlier

    def _positions(self, filters: tuple[Filter, ...]) -> frozenset[int]:
        """Positions in the index's entries of the customers passing every filter."""
        memo = self._query_memo()
        context, kept, customers = memo.context, memo.matches, memo.customers
        result: frozenset[int] | None = None
        # the filters already worked out first: the others are tested only on what is left
        for f in sorted(set(filters), key=lambda f: (f not in kept, context.COST[f.key])):
            known = kept.get(f)
            if known is None:
                test = context.predicate(f)
                if result is None:  # tested on everyone: worth keeping
                    known = frozenset(i for i, c in enumerate(customers) if c is not None and test(c))
                    if len(kept) >= _KEPT:
                        kept.clear()
                    kept[f] = known
                else:
                    known = frozenset(i for i in result if test(customers[i]))
            result = known if result is None else result & known
            if not result:
                break
        return result or frozenset()

    # ---- saved views -----------------------------------------------------------------

    def views(self) -> dict[str, str]:
        return dict(self.snapshot.settings.views)

    def view(self, name: str) -> str:
        """The query of the view `name` in crm.toml [views], or CrmError listing the views."""
        views = self.snapshot.settings.views
        if name in views:
            return views[name]
        lowered = {k.lower(): v for k, v in views.items()}
        if name.lower() in lowered:
            return lowered[name.lower()]
        problem = self.snapshot.settings_problem
        if problem is not None:
            raise CrmError(f"no view '{name}': crm.toml is broken (line {problem.line}), so its [views] are not "
                           f"read; fix it first, see: crmtui check")
        if not views:
            raise CrmError(f"no view '{name}': crm.toml has no [views] yet; add some, like "
                           f"[views] then losing-touch = \"tier:gold last:>45d\"")
        raise CrmError(f"unknown view '{name}' — views in crm.toml: {', '.join(sorted(views))}")
