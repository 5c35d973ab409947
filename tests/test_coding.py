from __future__ import annotations

import pytest

from tpi_cli.clinical.coding import suggest_cpt
from tpi_cli.parsing import parse_agent, parse_site

LIDO = [parse_agent("lidocaine 1% 2 mL")]


@pytest.mark.parametrize(
    ("sites", "agents", "ultrasound", "codes"),
    [
        (["UT:left"], LIDO, False, ["20552"]),
        (["UT:left", "UT:right"], LIDO, False, ["20552"]),
        (["UT:bilateral"], LIDO, False, ["20552"]),
        # AAPC: right + left trapezius + one more = 3 muscles
        (["UT:left", "UT:right", "levator:left"], LIDO, False, ["20553"]),
        (["UT:bilateral", "QL:left"], LIDO, False, ["20553"]),
        (["UT:left:5", "levator:left:5"], LIDO, False, ["20552"]),
        (["UT:left"], [], False, ["20560"]),
        (["UT:bilateral", "QL:left"], [], False, ["20561"]),
        (["UT:left"], LIDO, True, ["20552", "76942"]),
        (["UT:left"], [parse_agent("saline 2 mL")], False, ["20552"]),
    ],
)
def test_cpt_follows_the_muscle_count(sites, agents, ultrasound, codes):
    suggestion = suggest_cpt([parse_site(s) for s in sites], agents, ultrasound)
    assert suggestion.codes == codes
    assert codes[0] in suggestion.rule
