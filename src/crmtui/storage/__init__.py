"""The book on disk: reading, atomic writing, validation, and the git layer."""
