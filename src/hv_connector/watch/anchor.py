"""E-mail the audit chain's tip to the addresses in ``[audit] anchor_to``, through the e-mail notifier.

A tip kept in someone else's mailbox is what ``hvc audit verify --expect HASH`` checks against: a log
rewritten from some entry onwards, tip included, no longer leads to it.
"""

from __future__ import annotations

from datetime import datetime

from hv_connector.errors import ConfigError
from hv_connector.runtime import Runtime
from hv_connector.watch.notify import Notice, Recipient, load_notifiers


def mail_anchor(rt: Runtime, text: str, at: datetime) -> list[str]:
    """Send ``text`` (the tip) to every ``anchor_to`` address; the addresses it went to.

    :raises ConfigError: no ``anchor_to`` addresses, or no ``[watch.notifiers.email]`` relay to send through.
    :raises NotifierError: the relay refused (the message names the setting to fix).
    """
    addresses = rt.settings.audit.anchor_to
    configured = rt.settings.watch.notifiers.configured()
    if not addresses or "email" not in configured:
        raise ConfigError("to e-mail the tip, set `anchor_to = [\"dpo@school.example\"]` under [audit] and an SMTP "
                          "relay under [watch.notifiers.email] in hvc.toml")
    email = next(n for n in load_notifiers(rt.pm, rt.settings, {"email": configured["email"]}) if n.name == "email")
    notice = Notice(escalation_id=0, key="audit-anchor", kind="audit-anchor", school_id="", visit_id="",
                    step_index=0, due_at=at, who=(), text=text,
                    recipients=tuple(Recipient(name=address, email=address) for address in addresses))
    sent = [address for address in email.addresses(notice) if address in addresses]
    for address in sent:
        email.send(notice, address)
    return sent
