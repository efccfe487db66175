"""Modal dialogs: decisions with a reason, and yes/no confirmations."""
