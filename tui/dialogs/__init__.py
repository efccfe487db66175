"""Modal dialogs: forms (check-in, more time, decisions with a reason, overrides) on one base, and yes/no confirmations."""
