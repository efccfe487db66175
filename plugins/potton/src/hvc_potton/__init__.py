"""Potton Primary School's home-visit policy for hv-connector.

The rules live in :mod:`hvc_potton.rules` (one function per rule id); the
answers to the other school-policy hooks in :mod:`hvc_potton.policy`.
"""

from hvc_potton.policy import plugin
from hvc_potton.rules import book

__all__ = ["book", "plugin"]
