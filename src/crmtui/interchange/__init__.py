"""Interchange: vCard, CSV, iCalendar and JSON in and out, matching and merging.

Everything here except service_ops.py is pure: text in, plain data out (and the
reverse), no files, no git, no UI. service_ops.py holds the use cases that write
the book and commit.
"""
