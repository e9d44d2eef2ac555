"""The Textual TUI. The only package of crmtui that imports textual."""
