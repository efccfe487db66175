"""What the decision dialogs show of a rule: a tick that only Space ticks, and the finding in words.

Enter never ticks a rule here: an acknowledgement or an override is a deliberate
act on one rule, not the side effect of a key pressed to get past a dialog.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Checkbox

from hv_connector.models import Finding


def one_per_rule(findings: Iterable[Finding]) -> list[Finding]:
    """The findings, each rule once (a policy may report one rule at two stages), in their order."""
    return list({f.rule_id: f for f in findings}.values())


def about(finding: Finding) -> Text:
    """The finding's message and the policy clause it comes from, as plain text (never markup)."""
    text = Text(finding.message)
    text.append(f" ({finding.clause})", style="italic dim")
    return text


class Tick(Checkbox, inherit_bindings=False):
    """A tick for one rule, unticked to start; Space or a click ticks it, Enter does not.

    :param finding: the rule this tick decides on.
    """

    BINDINGS = [Binding("space", "toggle_button", "Tick", show=False, id="tick.toggle",
                        tooltip="Tick or untick the rule under the cursor")]

    def __init__(self, finding: Finding) -> None:
        super().__init__(Text(finding.rule_id, style="bold"), value=False, compact=True)
        self.finding = finding
