"""The fast ways of reading a store give exactly what the full ways give.

A visits file is parsed by pydantic's JSON parser (jiter) where the records are validated next, and a listing keeps
each record already in its output form. Each is held here to the way it replaced: json.loads for the file, and for
the output the record written compactly, read back and written again.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import to_json

from tpi_cli.cli.console import json_item
from tpi_cli.files import parse_json
from tpi_cli.store import parse_fast

# Text of every kind: escapes, astral characters, line separators, lone surrogates (as escapes in the file).
TEXT = st.text(st.characters(codec=None), max_size=12)
NUMBERS = st.one_of(st.integers(min_value=-(10**40), max_value=10**40), st.floats(allow_nan=False),
                    st.sampled_from([0.0, -0.0, 1e-320, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3, 2.0**53 + 1]))
VALUES = st.recursive(st.none() | st.booleans() | NUMBERS | TEXT,
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                      max_leaves=20)


def outcome(parse, raw: bytes) -> tuple[str, object]:
    try:
        return "value", parse(raw)
    except ValueError as error:
        return "refused", str(error)


def same(a: object, b: object) -> bool:
    """Equal, with the types of numbers and the order of keys (a NaN equals a NaN, -0.0 is not 0.0)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def held_equal(raw: bytes) -> None:
    fast, full = outcome(parse_fast, raw), outcome(parse_json, raw)
    assert fast[0] == full[0], (raw[:200], fast, full)
    assert same(fast[1], full[1]) if fast[0] == "value" else fast[1] == full[1], (raw[:200], fast, full)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.booleans(), st.sampled_from([None, 2]))
def test_a_store_file_parsed_fast_is_what_json_reads(value, ascii_only, indent):
    held_equal(json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(st.sampled_from('{}[]",:0123456789.eE+-tfrunlasNIiy\\ \n\t\x00é'),
                                         max_size=30).map(str.encode))
def test_any_bytes_are_parsed_fast_or_refused_as_json_reads_or_refuses_them(raw):
    held_equal(raw)


@pytest.mark.parametrize("raw", [
    b'["\\ud800"]', b'["\\udc00\\ud800"]', b'["\\ud83d\\ude00"]', b'["a\nb"]', b'["\x1f"]', b'["\xff"]',
    b'\xef\xbb\xbf{}', '{"a": 1}'.encode("utf-16"), b'[1e400]', b'[-1e400]', b'[1e-400]', b'[NaN]', b'[Infinity]',
    b'[-Infinity]', b'[' + b"9" * 4300 + b']', b'[' + b"9" * 4301 + b']', b'[1.0e+2]', b'[1E2]', b'[-0]', b'[01]',
    b'[1.]', b'[.5]', b'{"a":1,"b":2,"a":3}', b'[' * 5000 + b']' * 5000, b'[' * 300 + b']' * 300, b' \t\r\n[] ',
    b'[] x', b'', b'{"visits":{"1":{}}}', b'[1.00000000000000011102230246251565404236316680908203125]',
    b'[123456789012345678901234567890.123456789e-5]', b'["\\u0000\\"\\\\\\/\\b\\f\\n\\r\\t"]', b'["\\x"]',
])
def test_edge_texts_are_parsed_fast_exactly_as_json_reads_them(raw):
    held_equal(raw)


RECORDS = st.dictionaries(TEXT.filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)),
                          VALUES.filter(lambda v: "\\ud" not in json.dumps(v)), max_size=6)


@settings(max_examples=300, deadline=None)
@given(RECORDS)
def test_a_listed_record_is_written_as_the_record_written_read_back_and_written_again(record):
    # what `visits --json` wrote before: the record kept compact in the temp file, read back, laid out
    before = to_json(json.loads(to_json(record)), indent=2).decode().replace("\n", "\n  ")
    assert json_item(record).decode() == before
