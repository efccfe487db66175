"""The DfE 2024 attendance codes and their statistical meanings.

From *Working together to improve school attendance* (DfE, August 2024), as summarised in
``shared/apis/wonde.md`` §0: a session is *present*, an *approved educational activity* (which
counts as attendance), an *authorised* or *unauthorised* absence, or *not a possible session*
(left out of every figure). A code outside the national list (a school's own, or a placeholder
such as ``-`` for "no mark yet") takes the meaning the MIS gives it, when it gives one.
"""

from __future__ import annotations

from enum import StrEnum


class Meaning(StrEnum):
    """What a session mark counts as."""

    PRESENT = "present"
    EDUCATIONAL = "educational"
    """Approved educational activity off site: counts as attendance."""
    AUTHORISED = "authorised"
    UNAUTHORISED = "unauthorised"
    NOT_POSSIBLE = "not-possible"
    """Not a possible session (not on roll, school closed, non-compulsory age…): in no figure."""
    UNKNOWN = "unknown"
    """A code with no meaning we can read: in no figure, and counted so the briefing can say so."""


def _codes(meaning: Meaning, *codes: str) -> dict[str, Meaning]:
    return dict.fromkeys(codes, meaning)


DFE_CODES: dict[str, Meaning] = {
    **_codes(Meaning.PRESENT, "/", "\\", "L"),
    **_codes(Meaning.EDUCATIONAL, "B", "K", "P", "V", "W"),
    **_codes(Meaning.AUTHORISED, "C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T"),
    **_codes(Meaning.UNAUTHORISED, "G", "N", "O", "U"),
    **_codes(Meaning.NOT_POSSIBLE, "D", "Q", "X", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z"),
}
"""Every national code (DfE 2024) and its statistical meaning."""

_MIS_WORDS: tuple[tuple[str, Meaning], ...] = (
    ("unauthori", Meaning.UNAUTHORISED),
    ("authori", Meaning.AUTHORISED),
    ("educational", Meaning.EDUCATIONAL),
    ("approved", Meaning.EDUCATIONAL),
    ("not possible", Meaning.NOT_POSSIBLE),
    ("not required", Meaning.NOT_POSSIBLE),
    ("not counted", Meaning.NOT_POSSIBLE),
    ("no mark", Meaning.UNKNOWN),
    ("present", Meaning.PRESENT),
    ("attend", Meaning.PRESENT),
)
"""Words in an MIS's own description of a code's statistical meaning, most specific first."""


def meaning_of(code: str | None, mis_meaning: str | None = None) -> Meaning:
    """The statistical meaning of ``code``: the national list's, else the MIS's own, else unknown.

    :param code: the mark as the register shows it (``/``, ``N``, ``Y1``…); case and spaces are ignored.
    :param mis_meaning: the MIS's description of the code's meaning (``"Unauthorised absence"``,
        ``"APPROVED_EDUCATIONAL_ACTIVITY"``…), used only for codes outside the national list.
    """
    national = DFE_CODES.get((code or "").strip().upper())
    if national is not None:
        return national
    said = (mis_meaning or "").strip().lower().replace("_", " ").replace("-", " ")
    for word, meaning in _MIS_WORDS:
        if word in said:
            return meaning
    return Meaning.UNKNOWN
