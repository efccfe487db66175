"""Keep the developer's machine out of every test: no HVC_* variables (but one: the tests act for others),
config and data under tmp_path."""

from __future__ import annotations

import getpass
import json
import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests judge behaviour, never speed: on a loaded two-core CI machine an example may take longer than
# Hypothesis's default 200 ms deadline, or its data may be slow to make; neither is a failure of ours.
settings.register_profile("hvc", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hvc")

KEPT = ("HVC_TEST_DATABASE_URL", "HVC_TRIAL_SEED")
"""What the developer may still set: the PostgreSQL to test against, and the seed that replays a trial."""


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HVC_") and name not in KEPT:
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    # The tests act for anyone with --as, as the service account's scheduled jobs do ([access] act_for_others);
    # the tests of who acts (tests/integration/access) take it away.
    monkeypatch.setenv("HVC_ACCESS__ACT_FOR_OTHERS", json.dumps([getpass.getuser()]))
