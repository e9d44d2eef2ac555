"""The use cases the CLI and the TUI share, each in its own module over one book session."""
