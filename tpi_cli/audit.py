"""The audit trail's hash chain: pure functions over events and records, no I/O.

Every store kind (TinyDB files today, PostgreSQL later) keeps the same events and verifies them with
these functions, so a trail copied between kinds verifies the same way. An event is::

    {seq, at, by, action, record, digest, prev, hash}

``digest`` is the SHA-256 of the record's canonical JSON after the change (for a disclosure: of the
bytes written), ``prev`` the previous event's ``hash`` and ``hash`` the SHA-256 of the event's
canonical JSON without ``hash``. Canonical JSON: sorted keys, UTF-8, no spaces.

An action is ``KIND.VERB``. The kinds in :data:`RECORD_KINDS` name store records (``record`` is their
id), so `verify` can hold every current record against its last event; other kinds (``export``,
``pdf``, ``backup``) are disclosures and writes of whole stores, whose ``record`` is a file name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
EVENT_KEYS = ("seq", "at", "by", "action", "record", "digest", "prev", "hash")

# action kind → the kind of store record it writes
RECORD_KINDS = {"patient": "patient", "visit": "visit", "config": "setting", "protocol": "protocol"}


# json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) builds this encoder on every call:
# an import encodes four texts a visit (the record, the event's hash, its pending line, its trail line)
canonical_text = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def canonical(data: Any) -> bytes:
    return canonical_text(data).encode()


# Where orjson's text of a number can differ from json's: a float below 1e-4 (orjson 0.00001 and 1e-7, json 1e-05
# and 1e-07). Every other number, string and key order is written alike (tests/test_canonical_fast.py).
_NEGATIVE_EXPONENT = re.compile(rb"[0-9]e-")


def canonical_written(data: Any, *, floats: bool = True) -> bytes:
    """canonical(DATA), made by orjson (8x faster) wherever its bytes are the same, else by json. FLOATS=False: DATA
    holds no float at all (an audit event), so nothing needs looking at afterwards.

    Only for data that tpi writes, whose floats are finite: orjson writes NaN and the infinities as null, where
    json writes NaN. Every float a tpi record holds is bounded by its model, which refuses them
    (tests/test_canonical_fast.py holds each record model to that); a record read from a file is not such data.
    """
    dumps = _orjson_dumps or _load_orjson()
    try:
        fast = dumps(data, option=_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, a key that is not text
        return canonical(data)
    # two substring searches; the pattern only where "e-" occurs at all (a search at every byte is 8x slower)
    if floats and (b"0.0000" in fast or (b"e-" in fast and _NEGATIVE_EXPONENT.search(fast))):
        return canonical(data)
    return fast


_orjson_dumps: Any = None  # loaded by the first write that needs it: not every command pays for the import
_SORT_KEYS = 0


def _load_orjson() -> Any:
    global _orjson_dumps, _SORT_KEYS
    import orjson

    _orjson_dumps, _SORT_KEYS = orjson.dumps, orjson.OPT_SORT_KEYS
    return _orjson_dumps


def digest(record: Any) -> str:
    """SHA-256 of RECORD's canonical JSON (RECORD in its stored JSON shape)."""
    return hashlib.sha256(canonical(record)).hexdigest()


def digest_of_records(digests: Iterable[tuple[str, str]]) -> str:
    """One SHA-256 for many records, from (id, digest) of each: of the lines "ID DIGEST" sorted by id (by
    code point, which is UTF-8 byte order, so a database computes the same with string_agg … ORDER BY id)."""
    return hashlib.sha256("\n".join(f"{ident} {value}" for ident, value in sorted(digests)).encode()).hexdigest()


# The digest of an event that removes its record (a setting set back to its default): JSON null.
REMOVED = digest(None)


def now_text() -> str:
    """An event's ``at``: UTC to the second, e.g. 2026-11-25T10:17:45Z."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def record_kind(action: str) -> str | None:
    """The kind of store record ACTION writes, or None for a disclosure."""
    return RECORD_KINDS.get(action.split(".", 1)[0])


@dataclass(frozen=True)
class Head:
    """The last event of a trail: what the next event chains onto."""

    seq: int = 0
    hash: str = GENESIS

    @classmethod
    def of(cls, event: dict[str, Any] | None) -> Head:
        return cls() if event is None else cls(event["seq"], event["hash"])


def event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in event.items() if k != "hash"})).hexdigest()


def chain(head: Head, at: str, by: str, writes: Iterable[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Events for WRITES ((action, record, digest) in order), chained from HEAD."""
    return [event for event, _ in chain_lines(head, at, by, writes)]


def chain_lines(head: Head, at: str, by: str, writes: Iterable[tuple[str, str, str]], *, many: bool = False
                ) -> Iterator[tuple[dict[str, Any], bytes]]:
    """(event, its :func:`line`) for WRITES, chained from HEAD, one at a time: each event encoded once.

    The line is the text the hash was taken of with ``"hash"`` put in its sorted place, after ``"digest"``:
    ``,"prev":`` occurs once in that text (a quote inside a JSON string is escaped), so the insertion is exact.
    MANY: a batch's events, encoded by orjson (whose import, ~2 ms in a command that writes one event, is not
    worth it for a few).
    """
    for action, record, record_digest in writes:
        event = {"seq": head.seq + 1, "at": at, "by": by, "action": action, "record": record,
                 "digest": record_digest, "prev": head.hash}
        text = canonical_written(event, floats=False) if many else canonical(event)  # texts and a whole number
        event["hash"] = hashlib.sha256(text).hexdigest()
        yield event, text.replace(b',"prev":', b',"hash":"' + event["hash"].encode() + b'","prev":', 1) + b"\n"
        head = Head(event["seq"], event["hash"])


def line(event: dict[str, Any]) -> bytes:
    """EVENT as one line of a JSON Lines trail."""
    return canonical(event) + b"\n"


@dataclass
class Verification:
    """What `verify` found: the counts and each problem as one line naming the event or record."""

    events: int = 0
    records: dict[str, int] = field(default_factory=dict)
    disclosures: int = 0
    problems: list[str] = field(default_factory=list)
    head: Head = field(default_factory=Head)

    @property
    def ok(self) -> bool:
        return not self.problems


class ChainChecker:
    """Walk a trail's events in order, checking the chain and keeping each record's last digest.

    Feed it events one at a time (a large trail need not be held in memory), then the current
    records, then call :meth:`finish` with the head the store recorded.
    """

    def __init__(self) -> None:
        self.result = Verification()
        self._last: dict[tuple[str, str], tuple[str, int]] = {}
        self._head = Head()
        self._seen: set[int] = set()
        self._max_seq = 0

    def _problem(self, text: str) -> None:
        self.result.problems.append(text)

    def add_event(self, number: int, raw: Any) -> None:
        """RAW is the NUMBERth line of the trail, parsed (or None when it is not JSON)."""
        if not isinstance(raw, dict) or set(raw) != set(EVENT_KEYS):
            self._problem(f"audit event on line {number} is not an audit event (changed or inserted by hand)")
            return
        self.result.events += 1
        seq = raw["seq"]
        if raw["hash"] != event_hash(raw):
            self._problem(f"audit event {seq} was changed: its hash does not match its content")
        if not isinstance(seq, int) or seq < 1:
            self._problem(f"audit event on line {number} has no valid seq: it was changed or inserted by hand")
        elif seq in self._seen:
            self._problem(f"audit event {seq} appears twice: a copy was inserted on line {number}")
        elif seq < self._max_seq:
            self._problem(f"audit event {seq} is out of order: it comes after event {self._max_seq}")
        elif seq == self._head.seq + 1 and raw["prev"] != self._head.hash:
            self._problem(f"audit event {seq} does not chain onto event {self._head.seq}: an event was changed, "
                          "inserted or replaced")
        if isinstance(seq, int):
            self._seen.add(seq)
            self._max_seq = max(self._max_seq, seq)
            self._head = Head(seq, raw["hash"])
        kind = record_kind(str(raw["action"]))
        if kind is None:
            self.result.disclosures += 1
        else:
            self._last[(kind, str(raw["record"]))] = (raw["digest"], seq)

    def add_record(self, kind: str, record_id: str, record: Any) -> None:
        """A record as the store holds it now."""
        self.result.records[kind] = self.result.records.get(kind, 0) + 1
        last = self._last.pop((kind, record_id), None)
        if last is None:
            self._problem(f"{kind} {record_id} has no audit event: it was added outside tpi")
        elif digest(record) != last[0]:
            self._problem(f"{kind} {record_id} differs from its last audit event ({last[1]}): it was changed "
                          "outside tpi")

    def finish(self, recorded_head: Head | None) -> Verification:
        """Removed events, records with events but no longer in the store, and the end against RECORDED_HEAD."""
        missing = sorted(set(range(1, self._max_seq + 1)) - self._seen)
        for seq in missing[:20]:
            self._problem(f"audit event {seq} was removed")
        if len(missing) > 20:
            self._problem(f"… and {len(missing) - 20} more audit events were removed")
        last_seq = self._max_seq
        for (kind, record_id), (last_digest, seq) in sorted(self._last.items(), key=lambda item: item[1][1]):
            if last_digest == REMOVED:
                continue
            self._problem(f"{kind} {record_id} is missing from the store: it was deleted outside tpi "
                          f"(last audit event {seq})")
        if recorded_head is not None and recorded_head != self._head:
            if recorded_head.seq > last_seq:
                self._problem(f"audit events {last_seq + 1}-{recorded_head.seq} were removed from the end of the trail")
            elif recorded_head.seq < last_seq:
                self._problem(f"audit events {recorded_head.seq + 1}-{last_seq} were added after the trail's "
                              "recorded end")
            else:
                self._problem(f"audit event {last_seq} differs from the trail's recorded end (audit.head)")
        self.result.head = self._head
        return self.result


def verify(events: Iterable[tuple[int, Any]], records: Iterable[tuple[str, str, Any]],
           recorded_head: Head | None) -> Verification:
    """Check EVENTS ((position, event) oldest first) against RECORDS ((kind, id, stored JSON)) and the head."""
    checker = ChainChecker()
    for number, event in events:
        checker.add_event(number, event)
    for kind, record_id, record in records:
        checker.add_record(kind, record_id, record)
    return checker.finish(recorded_head)
