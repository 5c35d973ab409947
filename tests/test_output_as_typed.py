"""What a clinician typed is shown as typed: rich would turn ":pill:" in a name or a note into an emoji in every
panel and table (the stored record right, its display not), and "[bold]" into markup."""

from __future__ import annotations

import pytest

TYPED_NAME = "Ana :pill: [bold]Núñez[/bold] :smile:"
TYPED_NOTE = "pt said :thumbs_up: re plan [x]"


@pytest.mark.parametrize("command", [("patient", "show", "P1"), ("visit", "show", "P1-V1"), ("visits",),
                                     ("patient", "list"), ("patient", "find", "Ana")])
def test_emoji_codes_and_brackets_in_what_was_typed_are_shown_as_typed(tpi, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "200")
    assert tpi("patient", "add", "--id", "P1", "--name", TYPED_NAME, "--dob", "1960-01-01",
               "--weight-kg", "70").exit_code == 0
    logged = tpi("log-visit", "-p", "P1", "-s", "UT:left", "-a", "lidocaine 1% 3 mL", "--pain", "7/2",
                 "--notes", TYPED_NOTE)
    assert logged.exit_code == 0, logged.stderr
    assert TYPED_NAME in logged.output and "💊" not in logged.output
    shown = tpi(*command)
    assert shown.exit_code == 0, shown.stderr
    assert "💊" not in shown.output and "😄" not in shown.output and "👍" not in shown.output
    if command[0] == "patient":  # the listings of visits name the patient by id
        assert TYPED_NAME in shown.output
    if command == ("visit", "show", "P1-V1"):
        assert TYPED_NOTE in shown.output
