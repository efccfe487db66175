"""hvc.toml pieces for the settings, runtime and command tests, and the one way to write the file.

Each test joins the ordinary parts (a school, its head, the e-mail notifier) with
what it is about (a missing token, a misspelt key) written out in full, so the
part under test stays in view and the rest is said once::

    path = write_config(tmp_path / "hvc.toml", school_table(cpoms_token="test-token"), POTTON_HEAD)
"""

from __future__ import annotations

from pathlib import Path

MIS_SCHOOL_ID = "A1930499544"
"""Potton's (fictional) Wonde school id."""


def write_config(path: Path, *parts: str) -> Path:
    """The parts, one after another, as the file at ``path`` (folders made).

    Only its owner may read it, as `hvc config check` asks of a file that holds tokens.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    path.chmod(0o600)
    return path


def school_table(school_id: str = "potton", name: str = "Potton Lower School", *,
                 mis_school_id: str | None = MIS_SCHOOL_ID, cpoms_token: str | None = None) -> str:
    """``[schools.ID]`` using the policy plugin of the same id, synced from ``mis_school_id`` (``None``: no sync).

    With ``cpoms_token`` its sink is ``cpoms-api`` (an empty token leaves ``token`` out); else the default, ``manual``.
    """
    text = f'\n[schools.{school_id}]\nname = "{name}"\npolicy = "{school_id}"\n'
    text += f'mis_school_id = "{mis_school_id}"\n' if mis_school_id else ""
    if cpoms_token is not None:
        text += f'[schools.{school_id}.sink]\nname = "cpoms-api"\nbase_url = "https://{school_id}.cpoms.example/api/v1"\n'
        text += f'token = "{cpoms_token}"\n' if cpoms_token else ""
    return text


def staff_entry(school_id: str, staff_id: str, name: str, *roles: str, mobile: str | None = None) -> str:
    """One ``[[staff.SCHOOL]]`` entry."""
    quoted = ", ".join(f'"{role}"' for role in roles)
    text = f'\n[[staff.{school_id}]]\nid = "{staff_id}"\nname = "{name}"\nroles = [{quoted}]\n'
    return text + (f'mobile = "{mobile}"\n' if mobile else "")


POTTON_HEAD = staff_entry("potton", "pt-head", "Alex Example", "headteacher", "dsl", mobile="07700 900101")
"""Potton's headteacher, who is also its DSL."""


def email_notifier(password: str) -> str:
    """``[watch.notifiers.email]`` with every setting, signing in with ``password``."""
    return ('\n[watch.notifiers.email]\nhost = "smtp.example"\nsender = "hv-connector@school.example"\n'
            f'username = "hv-connector@school.example"\npassword = "{password}"\n')
