"""SSH public keys: their fingerprints, and the service account's ``authorized_keys`` line for each.

Each line forces ``hvc --ssh-key FINGERPRINT`` whatever the person types, so ``hvc`` knows who signed in.
``restrict`` turns off port, agent and X11 forwarding and ``~/.ssh/rc``; ``pty`` gives back the terminal
the dashboard needs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hv_connector.errors import ConfigError, excerpt
from hv_connector.visits.directory import Directory

KEY_OPTIONS = "restrict,pty"
"""What an SSH session on the service account may do: a terminal for ``hvc``, nothing else."""


def fingerprint(public_key: str) -> str:
    """``SHA256:…`` for an OpenSSH public key line, as ``ssh-keygen -l`` prints it.

    :raises ConfigError: the line is not ``TYPE BASE64 [comment]``.
    """
    parts = public_key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (IndexError, binascii.Error):
        raise ConfigError(f"ssh_keys: {excerpt(public_key)} is not an OpenSSH public key; paste the whole line "
                          "of the person's id_ed25519.pub (ssh-ed25519 AAAA… name)") from None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class StaffKey:
    """One SSH key in the staff directories: whose it is and its fingerprint."""

    staff_id: str
    fingerprint: str
    public_key: str


def staff_keys(directory: Directory) -> Iterator[StaffKey]:
    """Every SSH key the directories name, once per person (a trust's DSL is in several schools' directories)."""
    seen: set[str] = set()
    for school in directory.schools():
        for member in directory.staff[school].values():
            for key in member.ssh_keys:
                found = StaffKey(member.id, fingerprint(key), " ".join(key.split()[:2]))
                if found.fingerprint not in seen:
                    seen.add(found.fingerprint)
                    yield found


def authorized_keys(directory: Directory, hvc: Path, config: Path | None) -> list[str]:
    """The service account's ``authorized_keys`` lines: each key forces ``hvc`` to run as its owner."""
    lines = []
    for key in staff_keys(directory):
        command = [str(hvc), *(["--config", str(config)] if config else []), "--ssh-key", key.fingerprint]
        forced = shlex.join(command).replace('"', '\\"')
        lines.append(f'{KEY_OPTIONS},command="{forced}" {key.public_key} hvc:{key.staff_id}')
    return lines
