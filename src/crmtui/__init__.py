"""crmtui: a customer-relationship manager for solo consultants, in the terminal."""

__version__ = "0.1.0"
