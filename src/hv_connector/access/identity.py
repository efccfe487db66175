"""Who is running ``hvc``: the person an SSH key or OS login names in the staff directories.

On a school's server staff reach ``hvc`` over SSH on the service account: the ``authorized_keys`` line of
each key (:mod:`.keys`) forces ``hvc --ssh-key FINGERPRINT``, whatever they type. Someone with their own
OS account is known by its login. Only the logins and staff ids ``[access] act_for_others`` names, and
directory entries with the ``admin`` role, may act as someone else with ``--as``.
"""

from __future__ import annotations

import os
import pwd
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from hv_connector.access.keys import staff_keys
from hv_connector.config.settings import AccessSettings
from hv_connector.errors import AccessRefused, excerpt
from hv_connector.visits.directory import Directory

STAFF_COMMANDS = frozenset({"access", "audit", "dashboard", "escalation", "export", "outbox", "policy", "propose",
                            "pupil", "retention", "status", "visit"})
"""What a key's forced command runs: the staff's work. Sync, push, the watch, the store and the settings are
the service account's and the IT person's, never reached through a staff key."""

ADMIN_ROLE = "admin"
"""A directory role whose holders may act for others."""


@dataclass(frozen=True)
class Identity:
    """Who is running ``hvc``, and how that is known.

    :param login: the OS login the process runs as.
    :param staff_id: the directory id of the person, when a key or login names one.
    :param via: how they were identified, for the audit log: ``ssh-key SHA256:…`` or ``login alice``.
    :param acts_for_others: whether ``--as`` may name someone else.
    """

    login: str
    staff_id: str | None
    via: str
    acts_for_others: bool

    def describe(self, directory: Directory) -> str:
        """"Ada Okafor (bw-dsl-1), known by ssh-key SHA256:…" or "login hvc (no directory entry)"."""
        if self.staff_id is None:
            return f"{self.via} (no staff directory entry)"
        school = directory.schools_of(self.staff_id)[0]
        return f"{directory.name(school, self.staff_id)} ({self.staff_id}), known by {self.via}"


def current_login() -> str:
    """The OS login of the process's real user (not a variable anyone can set)."""
    return pwd.getpwuid(os.getuid()).pw_name


def identify(directory: Directory, access: AccessSettings, login: str, ssh_key: str | None) -> Identity:
    """The person ``login`` (and, on the service account, ``ssh_key``) names.

    :raises AccessRefused: ``--ssh-key`` outside the service account, or a key no directory names.
    """
    if ssh_key is not None:
        if login != access.service_account:
            raise AccessRefused(f"--ssh-key is set by the service account's authorized_keys, not typed: run hvc "
                                f"as yourself (you are {login!r}, the service account is {access.service_account!r})")
        owner = next((key.staff_id for key in staff_keys(directory) if key.fingerprint == ssh_key), None)
        if owner is None:
            raise AccessRefused(f"the SSH key {excerpt(ssh_key)} is in no staff directory: ask whoever runs the "
                                "server to add it to your entry's ssh_keys and run `hvc access authorized-keys`")
        return Identity(login, owner, f"ssh-key {ssh_key}", _may_act_for_others(directory, access, owner, None))
    owner = next((member.id for school in directory.schools() for member in directory.staff[school].values()
                  if login in member.logins), None)
    return Identity(login, owner, f"login {login}", _may_act_for_others(directory, access, owner, login))


def _may_act_for_others(directory: Directory, access: AccessSettings, staff_id: str | None, login: str | None) -> bool:
    if login is not None and login in access.act_for_others:
        return True
    if staff_id is None:
        return False
    return staff_id in access.act_for_others or any(
        ADMIN_ROLE in member.roles for school in directory.schools_of(staff_id)
        if (member := directory.member(school, staff_id)))


def forced_argv(argv: list[str], environ: Mapping[str, str]) -> list[str]:
    """``argv`` with what the person typed over SSH appended, when the forced command ran without a command.

    ``ssh hvc@server visit list`` runs ``hvc … --ssh-key FP`` with ``SSH_ORIGINAL_COMMAND="visit list"``;
    a leading ``hvc`` is dropped; nothing typed opens the dashboard.

    :raises AccessRefused: what was typed starts with an option (``--ssh-key``, ``--config``): only commands.
    """
    if len(argv) < 2 or argv[-2] != "--ssh-key":
        return argv
    typed = shlex.split(environ.get("SSH_ORIGINAL_COMMAND", ""))
    if typed and os.path.basename(typed[0]) == "hvc":
        typed = typed[1:]
    if typed and typed[0].startswith("-") and typed[0] not in ("--help", "--version"):
        raise AccessRefused(f"over SSH, start with a command (e.g. `ssh hvc@server visit list`), not {excerpt(typed[0])}")
    if typed and not typed[0].startswith("-") and typed[0] not in STAFF_COMMANDS:
        raise AccessRefused(f"over SSH staff run {', '.join(sorted(STAFF_COMMANDS))}; {excerpt(typed[0])} is for "
                            "whoever runs the server, on the server itself")
    return [*argv, *(typed or ["dashboard"])]
