"""Settings come from HVC_* variables over hvc.toml over defaults, and every error names the setting and its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hv_connector.config.checks import problems, redacted, secret_values
from hv_connector.config.loading import config_source, load_settings
from hv_connector.config.settings import REDACTED, default_config_path, is_secret_name
from hv_connector.errors import ConfigError
from tests.configkit import POTTON_HEAD, email_notifier, school_table
from tests.configkit import write_config as write

TOKEN = "test-token-wonde-7f3a"
CPOMS_TOKEN = "test-token-cpoms-91be"

SCHOOL = "\n".join([
    f'[wonde]\ntoken = "{TOKEN}"\ntimeout = 12\n',
    school_table(cpoms_token=CPOMS_TOKEN),
    '[schools.potton.options]\nevening_from = "17:30"\n',
    POTTON_HEAD,
])


def test_without_a_file_the_defaults_serve_and_the_store_is_in_the_data_directory() -> None:
    settings = load_settings()
    assert settings.schools == [] and settings.wonde.token is None
    assert settings.wonde.base_url == "https://api.wonde.com/v1.0"
    expected = Path(os.environ["XDG_DATA_HOME"]) / "hv-connector" / "hvc.db"
    assert settings.database.url == f"sqlite:///{expected}"


def test_the_file_in_the_config_directory_is_read() -> None:
    write(default_config_path(), SCHOOL)
    settings = load_settings()
    assert default_config_path().is_relative_to(os.environ["XDG_CONFIG_HOME"])
    school = settings.school("potton")
    assert (school.name, school.policy, school.options) == ("Potton Lower School", "potton", {"evening_from": "17:30"})
    assert (school.sink.name, school.sink.options()["token"].get_secret_value()) == ("cpoms-api", CPOMS_TOKEN)
    assert settings.staff_of("potton")["pt-head"].roles == ("headteacher", "dsl")
    assert settings.wonde.timeout == 12


def test_environment_beats_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write(default_config_path(), SCHOOL)
    monkeypatch.setenv("HVC_WONDE__TIMEOUT", "3.5")
    monkeypatch.setenv("HVC_SCHOOLS__POTTON__SINK__TOKEN", "test-token-from-env")
    monkeypatch.setenv("HVC_DATABASE__URL", "postgresql+psycopg://hvc@db.example:5432/hvc")
    settings = load_settings()
    assert settings.wonde.timeout == 3.5
    assert settings.wonde.token.get_secret_value() == TOKEN  # untouched by the environment
    assert settings.school("potton").sink.options()["token"].get_secret_value() == "test-token-from-env"
    assert settings.school("potton").name == "Potton Lower School"
    assert settings.database.url == "postgresql+psycopg://hvc@db.example:5432/hvc"


def test_an_environment_name_reaches_a_hyphenated_school(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_SCHOOLS__ST_EDWARDS__SINK__TOKEN", "test-token-from-env")
    path = write(tmp_path / "hvc.toml", SCHOOL.replace("potton", "st-edwards"))
    settings = load_settings(path)
    assert [s.id for s in settings.schools] == ["st-edwards"]
    sink = settings.school("st-edwards").sink.options()
    assert sink["token"].get_secret_value() == "test-token-from-env"
    assert sink["base_url"] == "https://st-edwards.cpoms.example/api/v1"


def test_config_option_beats_hvc_config_which_beats_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(default_config_path(), "[wonde]\ntimeout = 1\n")
    assert load_settings().wonde.timeout == 1
    monkeypatch.setenv("HVC_CONFIG", str(write(tmp_path / "env.toml", "[wonde]\ntimeout = 2\n")))
    assert load_settings().wonde.timeout == 2
    assert config_source().origin == "HVC_CONFIG"
    assert load_settings(write(tmp_path / "option.toml", "[wonde]\ntimeout = 3\n")).wonde.timeout == 3


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml \(from --config\) does not exist"):
        load_settings(tmp_path / "nowhere.toml")


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bad\.toml is not valid TOML .*line 2"):
        load_settings(write(tmp_path / "bad.toml", "[wonde]\ntoken = \n"))


def test_every_wrong_setting_is_named_with_its_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "hvc.toml", """
[wonde]
requests_per_second = 0
base_url = "http://api.wonde.example/v1.0"

[schools.birchwood]
name = "Birchwood Primary"
polcy = "birchwood"

[[staff.birchwood]]
id = "bw-1"
name = "Sam Example"
roles = ["dsl"]

[[staff.birchwood]]
id = "bw-2"
name = "Jo Example"
roles = ["wizard"]
""")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    lines = str(caught.value).splitlines()[1:]
    assert [line.strip() for line in lines] == [
        "wonde.base_url must use https (the token travels with every request); plain http is for loopback only: "
        "export HVC_WONDE__BASE_URL or set `base_url` under [wonde] in hvc.toml",
        "wonde.requests_per_second input should be greater than 0: export HVC_WONDE__REQUESTS_PER_SECOND "
        "or set `requests_per_second` under [wonde] in hvc.toml",
        "schools.birchwood.policy is not set: set `policy` under [schools.birchwood] in hvc.toml",
        "schools.birchwood.polcy is not a setting hv-connector knows: remove it or correct the spelling in hvc.toml",
        "staff.birchwood[2].roles unknown role(s) wizard; known roles: admin, attendance-officer, deputy-dsl, dsl, "
        "headteacher, line-manager, office, office-manager, pastoral, pflo, slt, ta, teacher: "
        "set `roles` in entry 2 of [[staff.birchwood]] in hvc.toml",
    ]


def test_a_wrongly_typed_secret_is_never_echoed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_WONDE__TOKEN", '["test-token-in-a-list"]')
    monkeypatch.setenv("HVC_WATCH__NOTIFIERS__EMAIL__PASSWORD", "test-password-xyz")
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path / "hvc.toml", "[wonde]\ntoken = 12345678\n[watch.notifiers.email]\nport = 'x'\n"))
    message = str(caught.value)
    assert "watch.notifiers.email.host is not set" in message
    for secret in ("test-token-in-a-list", "12345678", "test-password-xyz"):
        assert secret not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_password_in_an_api_url_is_refused_and_never_echoed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_WONDE__BASE_URL", "https://user:test-url-password-5@api.wonde.example/v1.0")
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path / "hvc.toml", ""))
    assert "wonde.base_url must not hold a user name or password" in str(caught.value)
    assert "test-url-password-5" not in str(caught.value)


def test_a_school_configured_twice_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    twice = [{"id": "potton", "name": "P", "policy": "potton"}, {"id": "potton", "name": "Q", "policy": "potton"}]
    monkeypatch.setenv("HVC_SCHOOLS", json.dumps(twice))
    with pytest.raises(ConfigError, match="school id.s. potton are configured twice"):
        load_settings()


def test_an_unknown_school_names_the_configured_ones() -> None:
    write(default_config_path(), SCHOOL)
    with pytest.raises(ConfigError, match=r"'hexthorpe' is not configured \(configured: potton\); add \[schools.hexthorpe\]"):
        load_settings().school("hexthorpe")


def test_check_names_what_stops_a_school_working(tmp_path: Path) -> None:
    path = write(tmp_path / "hvc.toml", school_table(cpoms_token=""), """
[[staff.hexthorpe]]
id = "hx-1"
name = "Sam Example"
""")
    found = [str(p) for p in problems(load_settings(path), config_source(path))]
    assert found == [
        "staff.potton: school potton has no staff directory, so nobody can request or authorise its visits: "
        "add [[staff.potton]] entries (id, name, roles) to hvc.toml",
        "staff.hexthorpe: staff are listed for school 'hexthorpe', which is not configured: "
        "add [schools.hexthorpe] or remove [[staff.hexthorpe]]",
    ]


def test_check_says_where_to_configure_the_first_school() -> None:
    [found] = problems(load_settings(), config_source())
    assert found.setting == "schools"
    assert found.message.startswith(f"no school is configured: add a [schools.ID] table with `name` and `policy` "
                                    f"in {default_config_path()} (it does not exist yet)")


def test_check_names_a_readable_file_that_holds_tokens(tmp_path: Path) -> None:
    path = write(tmp_path / "hvc.toml", SCHOOL)
    assert problems(load_settings(path), config_source(path)) == []
    path.chmod(0o644)
    [found] = problems(load_settings(path), config_source(path))
    assert found.message.endswith(f"holds tokens but others can read it: run `chmod 600 {path}`")


def test_redacted_settings_hold_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_DATABASE__URL", "postgresql+psycopg://hvc:test-db-password@db.example/hvc")
    path = write(tmp_path / "hvc.toml", SCHOOL, email_notifier("test-smtp-password"))
    settings = load_settings(path)
    secrets = set(secret_values(settings))
    assert secrets == {TOKEN, CPOMS_TOKEN, "test-smtp-password", "test-db-password"}
    for text in (json.dumps(redacted(settings)), repr(settings), str(settings)):
        assert not [s for s in secrets if s in text]
    shown = redacted(settings)
    assert shown["wonde"]["token"] == REDACTED
    assert shown["schools"]["potton"]["sink"]["token"] == REDACTED
    assert shown["database"]["url"] == f"postgresql+psycopg://hvc:{REDACTED}@db.example/hvc"


def test_notifiers_hand_on_only_what_was_set(tmp_path: Path) -> None:
    path = write(tmp_path / "hvc.toml", email_notifier("test-smtp-password"), """
[watch.notifiers.sms-gateway]
account = "oak-hill"
""")
    configured = load_settings(path).watch.notifiers.configured()
    assert set(configured) == {"email", "sms-gateway"}
    assert set(configured["email"]) == {"host", "sender", "username", "password"}
    assert configured["email"]["password"].get_secret_value() == "test-smtp-password"
    assert configured["sms-gateway"] == {"account": "oak-hill"}


def test_an_adapters_own_section_keeps_its_secrets_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVC_SCHOOLS__POTTON__MIS_OPTIONS__CLIENT_SECRET", "test-client-secret-9")
    path = write(tmp_path / "hvc.toml", school_table(mis_school_id=None), """
mis = "arbor"
[schools.potton.mis_options]
url = "https://potton.arbor.example/rest-v2"
username = "hvc"
password = "test-arbor-password-3"
[schools.potton.mis_options.digest]
api_key = "test-api-key-7"
""")
    settings = load_settings(path)
    [school] = settings.schools
    assert school.syncs and school.mis_options["username"] == "hvc"
    assert school.mis_options["password"].get_secret_value() == "test-arbor-password-3"
    assert set(secret_values(settings)) == {"test-arbor-password-3", "test-api-key-7", "test-client-secret-9"}
    shown = json.dumps(redacted(settings))
    assert not [s for s in secret_values(settings) if s in shown] and '"url": "https://potton.arbor.example' in shown
    assert redacted(settings)["schools"]["potton"]["mis_options"]["digest"] == {"api_key": REDACTED}


@pytest.mark.parametrize(("name", "secret"), [
    ("api_key", True), ("client_secret", True), ("token", True), ("smtp-password", True), ("Secret", True),
    ("key_stage", False), ("token_file", False), ("keyboard_layout", False), ("passwords_expire_days", False),
])
def test_a_setting_is_secret_by_the_last_word_of_its_name(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret
