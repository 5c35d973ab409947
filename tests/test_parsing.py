from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tpi_cli import vocab
from tpi_cli.models import AgentInput, Concentration, Site
from tpi_cli.parsing import (
    format_agent,
    format_number,
    format_site,
    parse_agent,
    parse_function_score,
    parse_site,
)


@pytest.mark.parametrize(
    ("text", "drug", "value", "unit", "volume", "epi"),
    [
        ("lidocaine 1% 3mL", "lidocaine", 1, "%", 3, False),
        ("triamcinolone 40mg/mL 0.5mL", "triamcinolone", 40, "mg/mL", 0.5, False),
        ("lidocaine 1% with epinephrine 5 mL", "lidocaine", 1, "%", 5, True),
        ("bupivacaine 0.25% 2 mL", "bupivacaine", 0.25, "%", 2, False),
        ("dexamethasone 4 mg/mL 1 mL", "dexamethasone", 4, "mg/mL", 1, False),
        ("lidocaine 1% w/ epi 5 mL", "lidocaine", 1, "%", 5, True),
        ("lidocaine 2% 1:200,000 3 mL", "lidocaine", 2, "%", 3, True),
        ("Xylocaine 1% 2mL", "lidocaine", 1, "%", 2, False),
        ("Kenalog 40 mg/mL 1 cc", "triamcinolone", 40, "mg/mL", 1, False),
        ("Depo-Medrol 40 mg/ml 1 ml", "methylprednisolone", 40, "mg/mL", 1, False),
    ],
)
def test_agents_parse_as_clinicians_write_them(text, drug, value, unit, volume, epi):
    agent = parse_agent(text)
    assert (agent.drug, agent.concentration.value, agent.concentration.unit, agent.volume_ml, agent.epinephrine) == (
        drug, value, unit, volume, epi)


def test_saline_needs_no_concentration():
    agent = parse_agent("saline 2mL")
    assert agent.drug == "saline" and agent.concentration is None and agent.volume_ml == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lidocane 1% 3 mL", "did you mean 'lidocaine'"),
        ("lidocaine 1%", "no volume"),
        ("lidocaine 3 mL", "needs a concentration"),
        ("ropivacaine 0.5% with epinephrine 3 mL", "not made with epinephrine"),
        ("lidocaine 1 3 mL", "strength"),
        ("1% 3 mL", "names no drug"),
        ("lidocaine 1% 3 mL 2 mL", "more than one volume"),
    ],
)
def test_bad_agents_are_refused_with_the_fix(text, message):
    with pytest.raises(ValueError, match=message):
        parse_agent(text)


@pytest.mark.parametrize(
    ("text", "muscle", "side", "points"),
    [
        ("upper trapezius:left:2", "upper trapezius", "left", 2),
        ("levator scapulae:right", "levator scapulae", "right", 1),
        ("quadratus lumborum:bilateral:4", "quadratus lumborum", "bilateral", 4),
        ("UT:L:3", "upper trapezius", "left", 3),
        ("upper trap:r", "upper trapezius", "right", 1),
        ("QL:both:2", "quadratus lumborum", "bilateral", 2),
        ("SCM:left", "sternocleidomastoid", "left", 1),
        ("glute med:right", "gluteus medius", "right", 1),
        ("TFL:left", "tensor fasciae latae", "left", 1),
        ("levator:left", "levator scapulae", "left", 1),
    ],
)
def test_sites_accept_names_and_aliases(text, muscle, side, points):
    assert parse_site(text) == Site(muscle=muscle, side=side, points=points)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("upper trapezius", "paired; give the side"),
        ("uper trapezius:left", "did you mean 'upper trapezius'"),
        ("UT:up", "not one of left, right"),
        ("UT:left:0", "from 1 to 20"),
        ("UT:left:21", "from 1 to 20"),
        ("UT:left:two", "whole number"),
        ("UT:midline", "paired"),
        ("a:b:c:d:e", "MUSCLE"),
        ("UT:left:2:1.5mL:x", "MUSCLE"),
    ],
)
def test_bad_sites_are_refused_with_the_fix(text, message):
    with pytest.raises(ValueError, match=message):
        parse_site(text)


def test_function_scores():
    assert parse_function_score("ndi=24").scale == "NDI"
    assert parse_function_score("Oswestry-mod=12").scale == "Oswestry-mod"
    with pytest.raises(ValueError, match="0 to 50"):
        parse_function_score("NDI=60")
    with pytest.raises(ValueError, match="SCALE=SCORE"):
        parse_function_score("NDI 24")


# --- round trips -----------------------------------------------------------------------------------

amounts = st.decimals(min_value="0.001", max_value="99.999", places=3).map(float)
sites = st.builds(
    Site,
    muscle=st.sampled_from(sorted(m.name for m in vocab.muscles().values() if not m.choices)),
    side=st.sampled_from(["left", "right", "bilateral"]),
    points=st.integers(1, 20),
    # any volume a float can hold in (0, 100] mL, not only tidy decimals: the text must read back exactly
    volume_ml=st.none() | st.floats(min_value=0, max_value=100, exclude_min=True) | amounts,
)


@st.composite
def agents(draw):
    drug = vocab.drugs()[draw(st.sampled_from(sorted(vocab.drugs())))]
    concentration = None
    if drug.drug_class != "other" or draw(st.booleans()):
        value = draw(amounts if drug.unit == "%" else st.decimals("0.01", "999.99", places=2).map(float))
        concentration = Concentration(value=value, unit=drug.unit)
    epinephrine = drug.has_epinephrine_form and draw(st.booleans())
    return AgentInput(drug=drug.name, concentration=concentration, volume_ml=draw(amounts), epinephrine=epinephrine)


@given(sites)
def test_a_formatted_site_parses_back_to_itself(site):
    assert parse_site(format_site(site)) == site


@given(agents())
def test_a_formatted_agent_parses_back_to_itself(agent):
    assert parse_agent(format_agent(agent)) == agent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("upper trapezius left 2", "upper trapezius:left:2"),
        ("UT L 3", "upper trapezius:left:3"),
        ("QL bilateral", "quadratus lumborum:bilateral:1"),
        ("levator scapulae right", "levator scapulae:right:1"),
    ],
)
def test_sites_may_be_typed_with_spaces(text, expected):
    assert format_site(parse_site(text)) == expected


@pytest.mark.parametrize("text", ["lidocaine HCl 1% 3 mL", "Xylocaine-MPF 1% 3 mL", "plain lidocaine 1% 3 mL",
                                  "lidocaine 1% PF 3 mL"])
def test_label_words_name_no_drug(text):
    agent = parse_agent(text)
    assert (agent.drug, agent.volume_ml, agent.epinephrine) == ("lidocaine", 3, False)


# --- text that must be refused, never read as something else (issue 9 item 2) ---------------------------

@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lidocaine 1% -3 mL", "minus sign"),
        ("lidocaine -1% 3 mL", "minus sign"),
        ("lidocaine 1% \u22123 mL", "minus sign"),
        ("lidocaine 1% 3 mL mL", "'mL' without its own amount"),
        ("lidocaine 1% % 3 mL", "'%' without its own amount"),
        ("triamcinolone 40 mg/mL mg 1 mL", "'mg' without its own amount"),
        ("lidocaine 1% 3 mL xyz", "'xyz' is not part of a drug name"),
        ("xyz lidocaine 1% 3 mL", "'xyz' is not part of a drug name"),
        ("lidocaine 1% 3 mLx", "put a space after the unit"),
        ("lidocaine 1%% 3 mL", "put a space after the unit"),
        ("lidocaine 1% 2,5 mL", "decimal comma"),
        ("lidocaine 1,5% 3 mL", "decimal comma"),
        ("lidocaine 1% \u0663 mL", "no volume"),
    ],
)
def test_agent_text_that_could_be_misread_is_refused_naming_the_fix(text, message):
    with pytest.raises(ValueError, match=message) as refused:
        parse_agent(text)
    assert "like 'lidocaine 1% 3 mL'" in str(refused.value)


@pytest.mark.parametrize("text", ["UT:left:-2", "UT left -2", "UT left 2.5", "UT:left:\u0663", "UT:left:2x"])
def test_site_points_that_could_be_misread_are_refused(text):
    with pytest.raises(ValueError, match="whole number from 1 to 20"):
        parse_site(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [("NDI=-3", "cannot be negative"), ("NDI=2,5", "decimal comma"), ("NDI=1e1", "not a number"),
     ("NDI=nan", "not a number"), ("NDI=1_0", "not a number"), ("NDI=\uff11\uff12", "not a number")],
)
def test_function_scores_are_written_plainly(text, message):
    with pytest.raises(ValueError, match=message):
        parse_function_score(text)


@pytest.mark.parametrize("text", ["lidocaine 2% 1:200,000 3 mL", "lidocaine epinephrine-free 1% 3 mL",
                                  "lidocaine 1%, 3 mL", "Depo-Medrol 40 mg/ml 1 ml", "lidocaine w/ epi 1% 3 mL"])
def test_commas_and_hyphens_clinicians_type_still_read(text):
    parse_agent(text)


# --- arbitrary text: a bad-input error or a value that survives its own formatting ------------------------

_DRUG_WORDS = sorted({"lidocaine", "Xylocaine", "bupivacaine", "Kenalog", "Depo-Medrol", "triamcinolone", "saline",
                      "HCl", "MPF", "plain", "with", "w/", "epi", "epinephrine", "epinephrine-free", "1:200,000"})
_AGENT_TOKENS = st.one_of(
    st.sampled_from(_DRUG_WORDS),
    st.sampled_from(["%", "mL", "ml", "cc", "mg", "mg/mL", "/", "-", ",", ".", ":", "+", "\u2212", " ", "  "]),
    st.integers(-5, 500).map(str),
    st.decimals("-9.99", "99.99", places=2).map(str),
    st.text(max_size=3),
)
_SITE_TOKENS = st.one_of(
    st.sampled_from(["UT", "upper trapezius", "QL", "levator", "glute med", "multifidus", "left", "r", "both",
                     "midline", ":", " ", "-", ",", ".", "mL", "ml", "cc", "1.5mL", "0mL", ".5 mL", "1e2mL"]),
    st.integers(-3, 25).map(str),
    st.text(max_size=3),
)


def _round_trips(parse, format_, text):
    try:
        value = parse(text)
    except ValueError:
        return
    assert parse(format_(value)) == value


@given(st.one_of(st.text(), st.lists(_AGENT_TOKENS, max_size=8).map(" ".join),
                 st.lists(_AGENT_TOKENS, max_size=8).map("".join)))
def test_any_agent_text_is_refused_or_read_back_the_same(text):
    _round_trips(parse_agent, format_agent, text)


@given(st.one_of(st.text(), st.lists(_SITE_TOKENS, max_size=6).map(" ".join),
                 st.lists(_SITE_TOKENS, max_size=6).map(":".join)))
def test_any_site_text_is_refused_or_read_back_the_same(text):
    _round_trips(parse_site, format_site, text)


@given(st.one_of(st.text(), st.builds("{}={}".format, st.sampled_from(["NDI", "ODI", "x", ""]),
                                      st.one_of(st.text(max_size=6), st.floats().map(str)))))
def test_any_function_score_text_is_refused_or_read_back_the_same(text):
    _round_trips(parse_function_score, lambda s: f"{s.scale}={format_number(s.score)}", text)
