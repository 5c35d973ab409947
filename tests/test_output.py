"""Output that fits: listings piped as TSV, tables that fit a terminal of any width, help, config edges."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
import typer
from rich.console import Console

from tpi_cli.cli import app, tables

SITES = ("upper trapezius:left:2", "levator scapulae:left", "sternocleidomastoid:right", "quadratus lumborum:left:3")
AGENTS = ("lidocaine 1% 3 mL", "triamcinolone 40 mg/mL 0.5 mL")


@pytest.fixture
def clinic(tpi, log):
    """Two patients with long allergies and visits with long site and drug names."""
    for pid, name in (("P001", "Ana María Núñez-Castellanos"), ("P002", "Bo Li")):
        args = ["patient", "add", "--id", pid, "--name", name, "--dob", "1968-04-02", "--weight-kg", "70",
                "--allergy", "sulfite", "--allergy", "chlorhexidine (contact dermatitis)"]
        assert tpi(*args).exit_code == 0
    for day, pid in (("2026-01-05", "P001"), ("2026-02-05", "P002"), ("2026-03-05", "P001")):
        site_args = [a for s in SITES for a in ("--site", s)]
        agent_args = [a for g in AGENTS for a in ("--agent", g)]
        log("--date", day, *site_args, *agent_args, "--pain-before", "7", "--pain-after", "2",
            "--override-reason", "test", patient=pid)


def test_piped_visits_are_tab_separated_rows_under_a_header(tpi, clinic):
    out = tpi("visits").stdout
    lines = out.splitlines()
    assert lines[0].split("\t") == ["visit", "date", "patient", "sites", "doses", "pain", "CPT", "notes"]
    assert len(lines) == 4 and all(len(line.split("\t")) == 8 for line in lines)
    assert not re.search("[─━│┃╭╰]", out)
    matching = [line for line in lines if "upper trapezius" in line]  # what `| grep 'upper trapezius'` sees
    assert len(matching) == 3
    assert [line.split("\t")[1] for line in lines[1:]] == ["2026-03-05", "2026-02-05", "2026-01-05"]  # cut -f2
    assert "triamcinolone 20 mg" in lines[1].split("\t")[4]


def test_piped_patient_list_keeps_every_column_on_one_line(tpi, clinic):
    lines = tpi("patient", "list").stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["id", "name", "born"]
    assert lines[1].split("\t")[:2] == ["P001", "Ana María Núñez-Castellanos"]
    assert "chlorhexidine (contact dermatitis)" in lines[1].split("\t")[5]


def test_tabs_and_line_breaks_inside_a_cell_are_escaped_so_a_record_stays_one_line():
    out = io.StringIO()
    tables.write_tsv(out, [tables.Column("a"), tables.Column("b")], [["x\ty", "line 1\nline 2 \\ end"]])
    assert out.getvalue().splitlines() == ["a\tb", "x\\ty\tline 1\\nline 2 \\\\ end"]


def rendered(width: int, title: str, columns: list[tables.Column], rows: list[list[str]]) -> str:
    console = Console(width=width, file=io.StringIO(), force_terminal=True, color_system=None)
    tables.render(console, title, columns, rows)
    return console.file.getvalue()


def listing(tpi, *args: str) -> tuple[list[tables.Column], list[list[str]]]:
    """The columns and rows a listing prints, read back from its TSV."""
    from tpi_cli.cli.console import COLUMN_MIN_WIDTHS, WRAPPING_COLUMNS

    lines = tpi(*args).stdout.splitlines()
    names = lines[0].split("\t")
    columns = [tables.Column(n, wrap=n in WRAPPING_COLUMNS, min_width=COLUMN_MIN_WIDTHS.get(n, tables.MIN_WRAP_WIDTH))
               for n in names]
    return columns, [line.split("\t") for line in lines[1:]]


@pytest.mark.parametrize("width", [60, 80, 200])
@pytest.mark.parametrize("command", [("visits",), ("patient", "list"), ("config", "show")])
def test_in_a_terminal_no_word_is_broken_and_no_column_is_lost(tpi, clinic, width, command):
    columns, rows = listing(tpi, *command)
    text = rendered(width, "title", columns, rows)
    assert max(len(line) for line in text.splitlines()) <= width
    words = set(text.split())
    for row in rows:
        for cell in row:
            for word in cell.split():
                assert word in words or word + ":" in words, (word, width)  # never cut in two
    for column in columns:
        assert column.name in text or not column.name


def test_a_wide_terminal_shows_a_table_and_a_narrow_one_stacks_key_value_blocks(tpi, clinic):
    columns, rows = listing(tpi, "visits")
    wide = rendered(200, "3 visits", columns, rows)
    assert wide.count("P001-V2") == 1 and "sites:" not in wide
    narrow = rendered(60, "3 visits", columns, rows)
    assert "sites:" in narrow and "allergies" not in narrow


def test_config_show_at_80_columns_gives_the_meaning_room_to_be_read(tpi, patient):
    columns, rows = listing(tpi, "config", "show")
    text = rendered(80, "Settings", columns, rows)
    assert "meaning: clinic name, printed at the top of every PDF" in " ".join(text.split())


def test_a_real_terminal_of_60_columns_gets_the_fitted_listing(tpi, clinic, tmp_path):
    import pty

    main, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": "60", "TPI_STORE": str(tmp_path / "store")}
    proc = subprocess.run([sys.executable, "-m", "tpi_cli", "visits"], stdout=secondary, stderr=subprocess.PIPE,
                          env=env, timeout=60, check=False)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode())
    assert proc.returncode == 0
    assert "\t" not in text and "sites:" in text and "upper trapezius" in text
    assert max(len(line) for line in text.splitlines()) <= 60


@pytest.mark.parametrize("command", [("visits",), ("patient", "list")])
def test_limit_applies_to_tables_and_json_and_a_negative_limit_is_bad_input(tpi, clinic, command):
    assert len(tpi(*command, "--limit", "1").stdout.splitlines()) == 2
    one = tpi(*command, "--limit", "1", "--json")
    assert len(json.loads(one.stdout)) == 1 and "showing 1 of" in one.stderr
    assert len(json.loads(tpi(*command, "--json").stdout)) > 1
    bad = tpi(*command, "--limit", "-1")
    assert bad.exit_code == 2 and "--limit" in bad.stderr and bad.stdout == ""


@pytest.mark.parametrize(("command", "noun"), [(("muscles",), "muscle"), (("drugs",), "drug")])
def test_the_vocabulary_is_listed_whole_unless_limited(tpi, command, noun):
    every = json.loads(tpi(*command, "--json").stdout)
    assert len(tpi(*command).stdout.splitlines()) == len(every) + 1 > 3
    two = tpi(*command, "--limit", "2")
    assert two.stdout.splitlines()[1:] == tpi(*command).stdout.splitlines()[1:3]
    assert f"showing 2 of {len(every)} {noun}s; --limit 0 shows all" in two.stderr
    assert json.loads(tpi(*command, "--limit", "1", "--json").stdout) == every[:1]
    assert len(json.loads(tpi(*command, "--limit", "0", "--json").stdout)) == len(every)
    bad = tpi(*command, "--limit", "-1")
    assert bad.exit_code == 2 and "--limit" in bad.stderr and bad.stdout == ""


def test_a_long_patient_list_stops_at_a_screenful_and_says_how_many_more(tpi, tmp_path):
    lines = [json.dumps({"id": f"P{n:04d}", "name": f"Patient {n}", "dob": "1970-01-01"}) for n in range(130)]
    (tmp_path / "many.jsonl").write_text("\n".join(lines))
    assert tpi("import", str(tmp_path / "many.jsonl")).exit_code == 0
    result = tpi("patient", "list")
    assert len(result.stdout.splitlines()) == 101
    assert "showing 100 of 130 patients; --limit 0 shows all" in result.stderr
    assert len(tpi("patient", "list", "--limit", "0").stdout.splitlines()) == 131


def test_visit_show_prints_every_recorded_field(tpi, log, patient):
    record = log("--site", "QL:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "6", "--pain-after", "1",
                 "--needle", "25G 1.5 in", "--twitch", "--complication", "vasovagal, resolved lying down",
                 "--notes", "tolerated well", "--prior-relief-pct", "60", "--prior-relief-weeks", "8",
                 "--function", "ODI=38", "--home-exercise", "--dx", "M79.18", "--consent", "written")
    shown = " ".join(tpi("visit", "show", record["id"]).stdout.replace("│", " ").split())
    for text in ("Needle: 25G 1.5 in", "Twitch: yes", "Complications: vasovagal, resolved lying down",
                 "Notes: tolerated well", "Prior relief: 60% for 8 weeks", "Functional scores: ODI 38",
                 "Home exercise programme: yes", "Consent: written", "Diagnoses: M79.18"):
        assert text in shown


def test_visit_show_shows_a_key_it_was_never_told_about():
    from tpi_cli.cli.visit import recorded_field_lines

    class Recorded:
        def model_dump(self, mode):
            return {"id": "P1-V1", "needle": None, "ultrasound_probe": "linear 12 MHz", "twitch": False}

    assert recorded_field_lines(Recorded()) == ["Ultrasound probe: linear 12 MHz", "Twitch: no"]


def every_command(group=None, path=()):
    group = group or typer.main.get_command(app)
    yield path, group
    for name, command in getattr(group, "commands", {}).items():
        yield from every_command(command, (*path, name)) if hasattr(command, "commands") else [((*path, name),
                                                                                                 command)]


@pytest.mark.parametrize("path", [path for path, _ in every_command()], ids=" ".join)
def test_every_command_and_group_has_help_with_examples_one_a_line(tpi, path):
    result = tpi(*path, "--help")
    assert result.exit_code == 0
    assert re.search(r"^  Examples?:$", result.stdout, re.MULTILINE), path
    examples = [line for line in result.stdout.splitlines() if line.strip().startswith("tpi ")]
    assert examples and all(len(re.findall(r"(?:^|\s)tpi\s", line)) == 1 for line in examples), examples


def test_config_unset_returns_a_setting_to_its_default(tpi):
    assert tpi("config", "set", "follow_up.default_days", "42").exit_code == 0
    assert json.loads(tpi("config", "show", "--json").stdout)["follow_up.default_days"] == 42
    result = tpi("config", "unset", "follow_up.default_days")
    assert result.exit_code == 0 and "default" in result.stderr
    assert json.loads(tpi("config", "show", "--json").stdout)["follow_up.default_days"] == 0
    assert tpi("config", "unset", "no.such.key").exit_code == 2


def test_config_set_takes_a_value_with_a_minus_sign_without_double_dash(tpi):
    result = tpi("config", "set", "limits.steroid_warn_mpe", "-5")
    assert result.exit_code == 2 and "must be more than 0 and at most 2000, not -5" in result.stderr
    assert "No such option" not in result.stderr


def test_a_global_option_after_the_command_says_where_it_goes(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tpi_cli", "visits", "--store", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "--store is a global option: put it before the command, e.g. tpi --store PATH visits" in result.stderr


def test_a_long_warning_wraps_inside_the_confirmation_box_instead_of_being_cut_off(tpi, patient):
    result = tpi("log-visit", "--patient", "P001", "--site", "upper trapezius:left", "--agent", "lidocaine 1% 2 mL",
                 "--pain", "6/2")
    assert result.exit_code == 0, result.stderr
    shown = " ".join(result.stderr.replace("│", " ").split())
    assert "ultrasound or a tangential approach over a rib lowers the risk." in shown


CHUNKED_ROWS = [
    [f"P{n:03}-V{n}", "2026-11-0" + str(n % 9 + 1), f"P{n:03}",
     ", ".join(["upper trapezius L×2", "sternocleidomastoid R×1", "quadratus lumborum bilat×3"][: n % 3 + 1]),
     "lidocaine 60 mg" + (", triamcinolone 20 mg" if n % 2 else ""), f"{n % 10}→{n % 4}",
     "20552 76942" if n % 4 == 0 else "20553", ("⚠" * (n % 3)) + ("李小龍 " * (n % 5))]
    for n in range(23)
]


@pytest.mark.parametrize("width", [60, 100, 200])
def test_a_long_listing_printed_in_chunks_looks_exactly_like_one_table(monkeypatch, width):
    """A whole clinic's listing is printed a chunk at a time (bounded memory) with the widths of the whole."""
    columns = [tables.Column(n, wrap=n in {"sites", "doses", "CPT", "notes"})
               for n in ("visit", "date", "patient", "sites", "doses", "pain", "CPT", "notes")]
    whole = rendered(width, "23 visits", columns, CHUNKED_ROWS)
    monkeypatch.setattr(tables, "CHUNK_ROWS", 4)
    assert rendered(width, "23 visits", columns, CHUNKED_ROWS) == whole
    assert whole.count("P022-V22") == 1
