"""Interchange: vCard, CSV, iCalendar and JSON in and out, matching and merging.

Everything here is pure: text in, plain data out (and the reverse), no files, no
git, no UI. The use cases that read sources, write the book and commit are in
usecases/interchange.py.
"""
