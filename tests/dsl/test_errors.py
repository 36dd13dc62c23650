"""Diagnostics (dsl._errors) and source positions (dsl._source): the reports authors read."""

from __future__ import annotations

import pytest

from dsl import DefinitionError, Diagnostic, Diagnostics, Position, Severity, Source, did_you_mean

SRC = Source("forms/child.yaml", "form: child\nconstraint: age > 'x'\n\n  tail\n")


def pos(line: int, column: int, end_column: int | None = None, end_line: int | None = None) -> Position:
    """A position in SRC."""
    return Position(SRC, line, column, end_line if end_line is not None else line, end_column)


# --- Source and Position ---------------------------------------------------------------------------


def test_source_line_is_one_based_and_total() -> None:
    """Source.line(n) gives line n without its newline, and "" outside the text."""
    assert SRC.line(1) == "form: child"
    assert SRC.line(4) == "  tail"
    assert SRC.line(0) == ""
    assert SRC.line(5) == ""
    assert SRC.line(-1) == ""


def test_source_handles_windows_line_endings() -> None:
    """\\r\\n counts as one line break, as YAML counts it."""
    source = Source("f", "a: 1\r\nb: 2\r\n")
    assert source.line(2) == "b: 2"


def test_position_str_and_path() -> None:
    """A position prints as path:line:col; without a source the path is <unknown>."""
    assert str(pos(2, 13)) == "forms/child.yaml:2:13"
    assert str(Position(None, 3, 4)) == "<unknown>:3:4"
    assert Position(None, 1, 1).path == "<unknown>"


def test_position_span() -> None:
    """span(width) covers width characters on the same line, at least one."""
    spanned = pos(2, 13).span(7)
    assert (spanned.line, spanned.column, spanned.end_line, spanned.end_column) == (2, 13, 2, 20)
    assert pos(2, 13).span(0).end_column == 14
    assert pos(2, 13).span(-5).end_column == 14


def test_positions_are_values() -> None:
    """Positions compare by value (the same source object, line and columns)."""
    assert pos(2, 13) == pos(2, 13)
    assert pos(2, 13) != pos(2, 14)
    assert len({pos(1, 1), pos(1, 1)}) == 1


# --- Diagnostic.format -----------------------------------------------------------------------------


def test_format_with_span_and_hint() -> None:
    """The report is location, severity, message, the source line indented by four spaces, a caret
    run under the span, and the hint."""
    diag = Diagnostic("cannot compare number with text", pos(2, 13, 22), "compare like with like")
    assert diag.format() == (
        "forms/child.yaml:2:13: error: cannot compare number with text\n"
        "    constraint: age > 'x'\n"
        "                ^^^^^^^^^\n"
        "  hint: compare like with like"
    )


def test_format_without_end_is_one_caret_and_no_hint_line() -> None:
    """Without an end column the caret is one character; without a hint there is no hint line."""
    diag = Diagnostic("unknown name 'age'", pos(2, 13))
    assert diag.format() == (
        "forms/child.yaml:2:13: error: unknown name 'age'\n    constraint: age > 'x'\n                ^"
    )


def test_format_caret_width_is_clipped_to_the_line() -> None:
    """A span running past the end of its line is underlined only to the end of the line."""
    diag = Diagnostic("m", pos(1, 7, 99))
    assert diag.format().splitlines()[2] == "          " + "^" * 5


def test_format_caret_after_the_last_character() -> None:
    """A position just past the end of the line (a missing token) shows a single caret there."""
    lines = Diagnostic("m", pos(1, 12, 15)).format().splitlines()
    assert lines[2] == "    " + " " * 11 + "^"


def test_format_multi_line_span_is_a_single_caret() -> None:
    """A span that ends on a later line puts one caret at its start."""
    lines = Diagnostic("m", pos(1, 7, 3, end_line=2)).format().splitlines()
    assert lines[2] == "    " + " " * 6 + "^"


def test_format_reversed_span_still_shows_one_caret() -> None:
    """An end before the start (a bad position) never gives an empty underline."""
    lines = Diagnostic("m", pos(2, 13, 5)).format().splitlines()
    assert lines[2].endswith("^")
    assert lines[2].count("^") == 1


def test_format_blank_source_line_is_not_echoed() -> None:
    """Nothing is echoed for a blank line (or a line past the end of the file)."""
    assert Diagnostic("m", pos(3, 1), "h").format() == "forms/child.yaml:3:1: error: m\n  hint: h"
    assert Diagnostic("m", pos(40, 1)).format() == "forms/child.yaml:40:1: error: m"


def test_format_without_position_or_source() -> None:
    """No position: message only. A position without source: location only, no echo."""
    assert Diagnostic("m", None, "h").format() == "error: m\n  hint: h"
    assert Diagnostic("m", Position(None, 2, 3)).format() == "<unknown>:2:3: error: m"


def test_format_warning_severity() -> None:
    """Warnings say "warning"."""
    diag = Diagnostic("unused field", pos(1, 1), severity=Severity.WARNING)
    assert diag.format().startswith("forms/child.yaml:1:1: warning: unused field\n")


def test_format_caret_lines_up_under_tabs() -> None:
    """Tabs in the echoed line are shown as spaces so the caret stays under the right character."""
    source = Source("f", "a:\t{b: 1}\n")
    lines = Diagnostic("m", Position(source, 1, 5)).format().splitlines()
    assert lines[1] == "    a: {b: 1}"
    assert lines[2] == "        ^"
    assert lines[1][lines[2].index("^")] == "b"


# --- DefinitionError -------------------------------------------------------------------------------


def test_definition_error_sorts_by_file_line_and_column() -> None:
    """Diagnostics are sorted by path, line, column and message; unpositioned ones come first."""
    other = Source("a.yaml", "x\n")
    diags = [
        Diagnostic("late", pos(2, 5)),
        Diagnostic("b-early", pos(1, 3)),
        Diagnostic("a-early", pos(1, 3)),
        Diagnostic("other file", Position(other, 9, 9)),
        Diagnostic("nowhere", None),
    ]
    err = DefinitionError(diags)
    assert [d.message for d in err.diagnostics] == ["nowhere", "other file", "a-early", "b-early", "late"]
    assert str(err) == "\n".join(d.format() for d in err.diagnostics)


def test_definition_error_is_a_value_error_with_the_report() -> None:
    """DefinitionError subclasses ValueError; str() is the full report."""
    err = DefinitionError.at(pos(2, 13), "unknown name 'agee'", "did you mean 'age'?", code="unknown-name")
    assert isinstance(err, ValueError)
    (diag,) = err.diagnostics
    assert diag.code == "unknown-name"
    assert diag.severity is Severity.ERROR
    assert str(err).endswith("  hint: did you mean 'age'?")


def test_definition_error_needs_a_diagnostic() -> None:
    """An error with nothing in it is a programming mistake."""
    with pytest.raises(ValueError, match="at least one diagnostic"):
        DefinitionError([])


def test_definition_error_errors_excludes_warnings() -> None:
    """.errors lists only error-severity diagnostics; warnings stay in .diagnostics."""
    err = DefinitionError([Diagnostic("w", pos(1, 1), severity=Severity.WARNING), Diagnostic("e", pos(2, 1))])
    assert [d.message for d in err.errors] == ["e"]
    assert len(err.diagnostics) == 2


# --- Diagnostics collector -------------------------------------------------------------------------


def test_collector_keeps_going_and_raises_everything() -> None:
    """Errors, warnings and absorbed errors are all kept and raised together, sorted."""
    found = Diagnostics()
    found.error(pos(2, 1), "second", "fix it", code="c2")
    found.warning(pos(1, 1), "a warning")
    found.absorb(DefinitionError.at(pos(1, 5), "nested"))
    found.extend([Diagnostic("extended", pos(4, 3))])
    assert len(found) == 4
    assert found.has_errors
    with pytest.raises(DefinitionError) as info:
        found.raise_if_errors()
    assert [d.message for d in info.value.diagnostics] == ["a warning", "nested", "second", "extended"]
    assert info.value.diagnostics[0].code == "warning"
    assert info.value.diagnostics[2].hint == "fix it"


def test_collector_with_only_warnings_does_not_raise() -> None:
    """Warnings alone never stop a definition loading."""
    found = Diagnostics()
    found.warning(pos(1, 1), "just so you know")
    assert not found.has_errors
    found.raise_if_errors()
    assert [d.severity for d in found] == [Severity.WARNING]


def test_empty_collector_does_not_raise() -> None:
    """No problems, no error."""
    found = Diagnostics()
    found.raise_if_errors()
    assert len(found) == 0


# --- did_you_mean ----------------------------------------------------------------------------------


def test_did_you_mean_single_match() -> None:
    """One close candidate is offered on its own."""
    assert did_you_mean("uper", ["upper", "lower", "trim"]) == "did you mean 'upper'?"


def test_did_you_mean_ranks_closest_first() -> None:
    """Candidates are ranked by similarity, best first, joined with commas and 'or'."""
    hint = did_you_mean("colour", ["color", "colours", "collar", "col"])
    assert hint == "did you mean 'colours', 'color' or 'collar'?"


def test_did_you_mean_two_matches() -> None:
    """Two candidates are joined with 'or'."""
    assert did_you_mean("child_dobb", ["child_dob", "child_name", "dob"]) == (
        "did you mean 'child_dob' or 'child_name'?"
    )


def test_did_you_mean_prefers_a_case_only_difference() -> None:
    """A name that differs only in case ranks first, even above closer spellings."""
    assert did_you_mean("AGE", ["ages", "age", "page"]) == "did you mean 'age'?"
    hint = did_you_mean("Child_Name", ["child_name", "Child_Names"])
    assert hint == "did you mean 'child_name' or 'Child_Names'?"


def test_did_you_mean_limits_and_deduplicates() -> None:
    """At most n suggestions, and a candidate listed twice is offered once."""
    assert did_you_mean("colour", ["color", "colours", "collar"], n=1) == "did you mean 'colours'?"
    assert did_you_mean("uper", ["upper", "upper"]) == "did you mean 'upper'?"


def test_did_you_mean_nothing_close() -> None:
    """Nothing similar gives None, so no misleading hint is shown."""
    assert did_you_mean("zzz", ["age", "name"]) is None
    assert did_you_mean("age", []) is None
