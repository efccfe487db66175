"""Who acts: an SSH key names its owner only through the service account's forced command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hv_connector.access.identity import forced_argv, identify
from hv_connector.access.keys import authorized_keys, fingerprint
from hv_connector.config.settings import AccessSettings
from hv_connector.errors import AccessRefused
from hv_connector.models import StaffMember
from hv_connector.visits.directory import Directory

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDUXfQ/SlhB00a7z+B1TcCIvHuAzBSzsV4BDK3P2m0HW ada@laptop"
FINGERPRINT = "SHA256:XupmqfAGVRaH2RYPeecef97usEH2lh7jOLTHjDjS8L8"
ACCESS = AccessSettings(service_account="hvc", act_for_others=["hvc"])


def directory() -> Directory:
    ada = StaffMember(id="bw-dsl-1", name="Ada Okafor", roles=("dsl",), ssh_keys=(KEY,))
    amir = StaffMember(id="bw-it", name="Amir Admin", roles=("admin",), logins=("amir",))
    return Directory(staff={"birchwood": {"bw-dsl-1": ada, "bw-it": amir}})


def test_the_fingerprint_is_the_one_ssh_keygen_prints(tmp_path: Path) -> None:
    (tmp_path / "k.pub").write_text(KEY + "\n")
    shown = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], capture_output=True, text=True)
    if shown.returncode != 0:
        pytest.skip("ssh-keygen (Debian's openssh-client) is not installed")
    assert shown.stdout.split()[1] == fingerprint(KEY) == FINGERPRINT


def test_each_key_forces_hvc_as_its_owner_with_a_terminal_and_nothing_else() -> None:
    [line] = authorized_keys(directory(), Path("/opt/hv-connector/.venv/bin/hvc"), Path("/etc/hv-connector/hvc.toml"))
    assert line == ('restrict,pty,command="/opt/hv-connector/.venv/bin/hvc --config /etc/hv-connector/hvc.toml '
                    f'--ssh-key {FINGERPRINT}" {" ".join(KEY.split()[:2])} hvc:bw-dsl-1')


def test_a_key_signs_in_its_owner_who_acts_only_as_themselves() -> None:
    who = identify(directory(), ACCESS, "hvc", FINGERPRINT)
    assert (who.staff_id, who.via, who.acts_for_others) == ("bw-dsl-1", f"ssh-key {FINGERPRINT}", False)


def test_the_service_account_and_admins_act_for_others_and_a_login_names_its_owner() -> None:
    assert identify(directory(), ACCESS, "hvc", None).acts_for_others
    amir = identify(directory(), ACCESS, "amir", None)
    assert (amir.staff_id, amir.via, amir.acts_for_others) == ("bw-it", "login amir", True)
    stranger = identify(directory(), ACCESS, "eve", None)
    assert (stranger.staff_id, stranger.acts_for_others) == (None, False)


def test_a_typed_ssh_key_or_an_unknown_key_is_refused() -> None:
    with pytest.raises(AccessRefused, match="--ssh-key is set by the service account's authorized_keys"):
        identify(directory(), ACCESS, "eve", FINGERPRINT)
    with pytest.raises(AccessRefused, match="is in no staff directory: ask whoever runs the server"):
        identify(directory(), ACCESS, "hvc", "SHA256:nobody")


def test_what_is_typed_over_ssh_becomes_the_command_and_nothing_opens_the_dashboard() -> None:
    forced = ["--config", "c.toml", "--ssh-key", FINGERPRINT]
    assert forced_argv(forced, {"SSH_ORIGINAL_COMMAND": "hvc visit list"}) == [*forced, "visit", "list"]
    assert forced_argv(forced, {}) == [*forced, "dashboard"]
    with pytest.raises(AccessRefused, match="start with a command"):
        forced_argv(forced, {"SSH_ORIGINAL_COMMAND": "--ssh-key SHA256:other visit list"})
    with pytest.raises(AccessRefused, match="'db' is for whoever runs the server"):
        forced_argv(forced, {"SSH_ORIGINAL_COMMAND": "db restore old.db --yes"})
