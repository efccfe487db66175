"""Bad input never gets a traceback (#13): odd encodings, deep nesting, impossible years, lone surrogates,
10 MB values and a malformed hvc.toml each get exit 2 and a short message naming the field."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from visitkit import REVIEW_WARNING, START, potton_request  # type: ignore[import-not-found]

HUGE = "x" * 10_000_000


def write(tmp_path: Path, content: bytes | str, name: str = "visit.json") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def refused(result: tuple[int, str, str], *names: str) -> str:
    """Assert exit 2 with a short message naming each of ``names`` and no traceback; return the message."""
    code, out, err = result
    assert code == 2, err
    assert "Traceback" not in out + err
    assert len(err) < 1_000
    for name in names:
        assert name in err
    return err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_request_saved_by_notepad_is_read(hvc, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, json.dumps(potton_request(purpose="Talk about Zoë's attendance."), ensure_ascii=False).encode(encoding))
    code, out, err = hvc("visit", "request", "--file", path, "--as", "pt-v1", "--json")
    assert code == 0, err
    assert json.loads(out)["visit"]["visit"]["purpose"] == "Talk about Zoë's attendance."


def test_a_file_that_is_not_utf8_is_named_with_the_fix(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, json.dumps(potton_request(purpose="Zoë"), ensure_ascii=False).encode("latin-1"))
    refused(hvc("visit", "request", "--file", path, "--as", "pt-v1"), "--file", "is not UTF-8", "save it as UTF-8")
    refused(hvc("policy", "check", path), "is not UTF-8")
    refused(hvc("visit", "report", "v-any", "--file", path, "--as", "pt-v1"), "is not UTF-8")


@pytest.mark.parametrize("depth", [30, 100_000])
def test_json_nested_too_deep_is_refused(hvc, tmp_path: Path, depth: int) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, json.dumps(potton_request())[:-1] + ', "purpose": ' + "[" * depth + "]" * depth + "}")
    refused(hvc("visit", "request", "--file", path, "--as", "pt-v1"), "nested")
    refused(hvc("policy", "check", path), "nested")


@pytest.mark.parametrize("field", ["planned_start", "expected_return"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-05:00"])
def test_a_date_in_year_1_or_9999_names_the_field(hvc, tmp_path: Path, field: str, moment: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, json.dumps(potton_request(**{field: moment})))
    refused(hvc("visit", "request", "--file", path, "--as", "pt-v1"), field, "2000–2099")
    refused(hvc("policy", "check", path), field)


@pytest.mark.parametrize("option", ["--start", "--return"])
def test_a_time_option_in_year_9999_names_the_option(hvc, option: str) -> None:  # type: ignore[no-untyped-def]
    refused(hvc("visit", "request", "--school", "potton", "--pupil", "A1000000001", "--reason", "unexplained-absence",
                "--start", "2026-11-23T10:00", option, "9999-12-31T23:59", "--staff", "pt-v1", "--as", "pt-v1"),
            option)
    refused(hvc("visit", "extend", "v-any", "--until", "9999-12-31T23:59-05:00", "--as", "pt-v1"), "--until")


def test_a_lone_surrogate_names_the_field(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, json.dumps(potton_request(purpose="Talk \ud800")))
    refused(hvc("visit", "request", "--file", path, "--as", "pt-v1"), "purpose", "not valid Unicode")
    # Bytes that are not UTF-8 in an argument reach Python as lone surrogates.
    refused(hvc("visit", "request", "--file", write(tmp_path, json.dumps(potton_request()), "ok.json"),
                "--purpose", "Talk \udcff", "--as", "pt-v1"), "purpose", "not valid Unicode")
    refused(hvc("visit", "show", "v-\udcff"), "not valid Unicode")


@pytest.mark.parametrize("field", ["school", "reason", "purpose", "pupil", "planned_start"])
def test_a_10_mb_value_is_quoted_only_in_part(hvc, tmp_path: Path, field: str) -> None:  # type: ignore[no-untyped-def]
    value: object = HUGE if field != "purpose" else [HUGE]
    path = write(tmp_path, json.dumps(potton_request(**{field: value})))
    refused(hvc("visit", "request", "--file", path, "--as", "pt-v1"), field)


def test_a_visit_file_with_many_bad_fields_lists_ten(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, json.dumps({"school": "potton", "staff": ["x" * 5_000] * 50, "planned_start": HUGE}))
    code, _, err = hvc("policy", "check", path)
    assert code == 2 and "planned_start" in err and "… and 42 more" in err
    assert err.count("\n  - ") == 10 and len(err) < 2_000


def test_schools_that_is_not_a_table_names_the_setting(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for body in ('schools = "oops"', "schools = 3", '[schools]\npotton = "oops"'):
        config = write(tmp_path, body + "\n", "hvc.toml")
        refused(hvc("--config", config, "config", "check"), "schools", "[schools.ID]")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "latin-1"])
def test_a_config_file_not_in_plain_utf8_says_how_to_save_it(hvc, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    config = write(tmp_path, '[schools.potton]\nname = "Pottón"\npolicy = "potton"\n'.encode(encoding), "hvc.toml")
    refused(hvc("--config", config, "config", "check"), "hvc.toml", "save it as UTF-8")


# --- how long a visit may be planned to last ------------------------------------------------------


def test_a_visit_planned_longer_than_the_school_allows_is_refused(hvc, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    nine_hours = potton_request(expected_return=(START + timedelta(hours=9)).isoformat())
    path = write(tmp_path, json.dumps(nine_hours))
    refused(hvc("visit", "request", "--file", path, "--as", "pt-v1"), "expected_return", "8 hours", "max_visit_hours")
    monkeypatch.setenv("HVC_SCHOOLS__POTTON__MAX_VISIT_HOURS", "10")
    assert hvc("visit", "request", "--file", path, "--as", "pt-v1")[0] == 0


def test_max_visit_hours_is_validated_and_named(hvc, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HVC_SCHOOLS__POTTON__MAX_VISIT_HOURS", "100")
    refused(hvc("config", "check"), "schools.potton.max_visit_hours", "24")


def test_a_visit_cannot_be_extended_past_the_longest_allowed(hvc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hvc("visit", "request", "--file", write(tmp_path, json.dumps(potton_request())), "--as", "pt-v1",
                       "--json")
    visit_id = json.loads(out)["visit"]["id"]
    assert hvc("visit", "authorise", visit_id, "--as", "pt-head", "--ack", REVIEW_WARNING)[0] == 0
    assert hvc("visit", "sign-out", visit_id, "--as", "pt-v1")[0] == 0  # at 08:00: eight hours is 16:00
    refused(hvc("visit", "extend", visit_id, "--until", "2026-11-23T17:00", "--as", "pt-v1"), "--until", "8 hours")
    refused(hvc("visit", "extend", visit_id, "--minutes", "600", "--as", "pt-v1"), "--until", "8 hours")
    assert hvc("visit", "extend", visit_id, "--until", "2026-11-23T15:30", "--as", "pt-v1")[0] == 0


# --- every command that reads a file or a typed option, with hostile values ------------------------

hostile_text = st.one_of(
    st.text(max_size=40),  # includes lone surrogates
    st.sampled_from(["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-05:00", "9999-12-31", "x" * 200_000, "", "\x00"]),
    st.datetimes().map(lambda moment: moment.isoformat()),
)
hostile_json = st.recursive(
    st.none() | st.booleans() | st.integers() | hostile_text, lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=10,
)


@st.composite
def hostile_file(draw: st.DrawFn) -> bytes:
    """A visit document with a field made hostile, in an encoding Windows might pick; or plain garbage."""
    document = potton_request()
    document[draw(st.sampled_from([*document, "extra"]))] = draw(hostile_json)
    text = json.dumps(document)
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "latin-1", "cp1252"]))
    return draw(st.one_of(
        st.just(text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")),
        st.binary(max_size=64),
        st.integers(1, 5_000).map(lambda n: b"[" * n + b"]" * n),
    ))


COMMANDS = [
    ("visit", "request", "--file", "{file}", "--as", "pt-v1"),
    ("visit", "report", "v-any", "--file", "{file}", "--as", "pt-v1"),
    ("policy", "check", "{file}"),
    ("outbox", "retry", "1", "--fixed", "{file}", "--as", "pt-v1"),
    ("--config", "{file}", "config", "check"),
    ("visit", "request", "--school", "potton", "--pupil", "A1000000001", "--reason", "unexplained-absence",
     "--start", "{text}", "--return", "{text}", "--staff", "pt-v1", "--purpose", "{text}", "--as", "pt-v1"),
    ("visit", "request", "--file", "{good}", "--start", "2026-11-23T10:00", "--return", "{text}", "--as", "pt-v1"),
    ("visit", "extend", "v-any", "--until", "{text}", "--as", "pt-v1"),
    ("visit", "return", "v-any", "--at", "{text}", "--as", "{text}"),
    ("visit", "report", "v-any", "--arrived", "{text}", "--discussion", "{text}", "--as", "pt-v1"),
    ("visit", "decline", "{text}", "--reason", "{text}", "--as", "pt-head"),
    ("policy", "check", "{good}", "--at", "{text}"),
    ("visit", "list", "--school", "{text}", "--as", "{text}"),
]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(COMMANDS), content=hostile_file(), text=hostile_text)
def test_no_command_answers_hostile_input_with_a_traceback(hvc, tmp_path: Path, command: tuple[str, ...],  # type: ignore[no-untyped-def]
                                                           content: bytes, text: str) -> None:
    good = write(tmp_path, json.dumps(potton_request()), "good.json")
    file = write(tmp_path, content, "hostile.json")
    args = [arg.format(file=file, good=good, text=text) if arg in ("{file}", "{good}", "{text}") else arg
            for arg in command]
    code, out, err = hvc(*args)
    assert code in (0, 1, 2)
    assert "Traceback" not in out + err
    assert len(err) < 2_000
