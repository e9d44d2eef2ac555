"""Errors a user can cause or fix; the CLI prints them as one sentence."""


class CrmError(Exception):
    """A user-facing failure: the message is the whole story, no traceback."""

    exit_code = 1


class AmbiguousError(CrmError):
    """WHO matched several records (or none); the message lists the candidates."""

    exit_code = 2
