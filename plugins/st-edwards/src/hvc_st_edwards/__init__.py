"""St Edwards Catholic Primary School's home-visit policy for hv-connector.

The rules live in :mod:`hvc_st_edwards.rules` (one function per rule id); the
answers to the other school-policy hooks in :mod:`hvc_st_edwards.policy`.
"""

from hvc_st_edwards.policy import plugin
from hvc_st_edwards.rules import book

__all__ = ["book", "plugin"]
