"""Staff sign in over SSH as themselves: a real OpenSSH server, started here on a loopback port with its own host
key and configuration (never the machine's sshd), forces ``hvc`` to run as the owner of the key used."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hv_connector.store import Store
from tests.configkit import write_config

SSHD = Path("/usr/sbin/sshd")


def _keygen(path: Path, comment: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An sshd on a loopback port that lets Ada's key in to this login, with hvc's forced command; (port, key)."""
    if not SSHD.exists() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("needs Debian's openssh-server (sshd) and openssh-client (ssh, ssh-keygen): "
                    "run `make system-packages` (make test runs it)")
    login = getpass.getuser()
    ada = _keygen(tmp_path / "ada", "ada@laptop")
    _keygen(tmp_path / "eve", "eve@laptop")
    _keygen(tmp_path / "host", "test host")
    database = f"sqlite:///{tmp_path / 'hvc.db'}"
    Store.open(database, upgrade=True).close()
    config = write_config(
        tmp_path / "hvc.toml", f'[database]\nurl = "{database}"\n',
        f'[access]\nservice_account = "{login}"\nact_for_others = []\n',
        '[schools.birchwood]\nname = "Birchwood Community High School"\npolicy = "birchwood"\n',
        '[schools.potton]\nname = "Potton Primary School"\npolicy = "potton"\n',
        f'[[staff.birchwood]]\nid = "bw-dsl-1"\nname = "Ada Okafor"\nroles = ["dsl"]\nssh_keys = ["{ada}"]\n',
        '[[staff.potton]]\nid = "pt-head"\nname = "Jo Watts-Test"\nroles = ["headteacher"]\n')
    hvc = Path(sys.executable).parent / "hvc"
    keys = subprocess.run([str(hvc), "--config", str(config), "access", "authorized-keys", "--hvc", str(hvc)],
                          capture_output=True, text=True, check=True).stdout
    (tmp_path / "authorized_keys").write_text(keys)
    port = _free_port()
    (tmp_path / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {tmp_path / 'host'}", f"PidFile {tmp_path / 'sshd.pid'}",
        f"AuthorizedKeysFile {tmp_path / 'authorized_keys'}", "StrictModes no", "UsePAM no",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
        f"AllowUsers {login}", ""]))
    Path("/run/sshd").mkdir(exist_ok=True) if login == "root" else None  # sshd's privilege-separation folder
    daemon = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(tmp_path / "sshd_config")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert daemon.poll() is None, daemon.stdout.read() if daemon.stdout else ""
            time.sleep(0.05)
        yield port, tmp_path
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def _ssh(server: tuple[int, Path], key: str, *command: str) -> subprocess.CompletedProcess[str]:
    port, folder = server
    return subprocess.run(["ssh", "-p", str(port), "-i", str(folder / key), "-o", "IdentitiesOnly=yes",
                           "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           "-o", "LogLevel=ERROR", f"{getpass.getuser()}@127.0.0.1", "--", *command],
                          capture_output=True, text=True, timeout=60)


def test_the_key_decides_who_acts_whatever_is_typed(server: tuple[int, Path]) -> None:
    done = _ssh(server, "ada", "hvc", "access", "whoami")
    assert done.returncode == 0, done.stderr
    assert "You are Ada Okafor (bw-dsl-1), known by ssh-key SHA256:" in done.stdout
    assert "Schools: birchwood." in done.stdout and "You act only as yourself." in done.stdout

    done = _ssh(server, "ada", "visit", "list", "--as", "pt-head")
    assert done.returncode == 1
    assert "--as 'pt-head': you are signed in as Ada Okafor (bw-dsl-1)" in done.stderr

    done = _ssh(server, "ada", "--ssh-key SHA256:someone-else access whoami")
    assert done.returncode == 1 and "over SSH, start with a command" in done.stderr


def test_a_key_in_no_directory_is_not_let_in(server: tuple[int, Path]) -> None:
    done = _ssh(server, "eve", "access", "whoami")
    assert done.returncode == 255 and "Permission denied" in done.stderr
