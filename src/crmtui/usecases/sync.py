"""Several machines: sync with the remote, and settle what a sync left to decide."""

from __future__ import annotations


from crmtui.domain.record import Customer
from crmtui.errors import CrmError


class SyncUseCases:

    def sync(self, interactive: bool = False):
        """Commit pending edits, fetch, merge record by record, push: a storage.sync.SyncReport.

        Blocks on the network: the TUI runs it in a worker. Raises CrmError with a
        sentence to show when it cannot sync; nothing is lost either way.
        """
        from crmtui.storage.sync import sync

        return sync(self, interactive=interactive)

    def resolve_conflict(self, handle: str, key: str | None, side: str) -> tuple[Customer, list[str]]:
        """Settle a record's [[conflicts]] left by a sync, as one commit.

        side "ours" keeps the value the record has now, "theirs" takes the other
        side's; key None settles every conflict of the record. Returns the saved
        customer and the keys settled.
        """
        if side not in ("ours", "theirs"):
            raise CrmError("choose a side: --ours keeps the record's value, --theirs takes the other side's")
        customer = self.snapshot.customer(handle)
        if customer is None:
            raise CrmError(f"no readable record {handle}; see: crmtui check")
        if not customer.conflicts:
            raise CrmError(f"{customer.name} has no sync conflict to resolve")
        chosen = [c.key for c in customer.conflicts if key is None or c.key == key]
        if not chosen:
            raise CrmError(f"{customer.name} has no conflict on '{key}'; its conflicts are on: "
                           f"{', '.join(sorted({c.key for c in customer.conflicts}))}")

        def mutate(doc):
            from crmtui.storage.merge import UnresolvableConflict, apply_resolution

            try:
                apply_resolution(doc, set(chosen), side)
            except UnresolvableConflict as error:
                raise CrmError(f"{error}; edit the file to settle it: crmtui edit {handle}") from None

        keys = ", ".join(dict.fromkeys(chosen))
        how = "kept this record's value" if side == "ours" else "took the other side's value"
        saved = self._write(handle, mutate, lambda c: f"Resolve {keys} of {c.name}: {how}")
        return saved, list(dict.fromkeys(chosen))
