"""Passphrase encryption in the age format (age-encryption.org/v1, scrypt recipient), streamed in chunks.

Why not pyrage (the binding of rage, which backups used first): it has no setting for scrypt's work
factor and picks one that takes about a second, so a backup's memory (128·8·N bytes) depended on the
machine and its load — 1 GiB on an idle 2-core laptop, more on a faster one; and it encrypts with a
passphrase only from bytes in memory (its streaming API takes public-key recipients only), so the whole
archive was held too. This module writes and reads the same format chunk by chunk with a fixed work
factor. It holds no cryptography of its own: scrypt, HKDF-SHA256, HMAC-SHA256 and ChaCha20-Poly1305 all
come from the `cryptography` package; what is here is the file format (https://age-encryption.org/v1,
C2SP age.md): the header, its MAC and the STREAM of 64 KiB chunks. `age -d` and pyrage open what it
writes, and it reads what they write.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

INTRO = b"age-encryption.org/v1\n"
# log2 N of scrypt (r = 8, p = 1): 2^16 holds 64 MiB for a moment, as much as KeePassXC's default Argon2
# asks to open a password database, and keeps a backup (tpi's own ~32 MiB beside it) within the 150 MiB a
# backup may take (issue 11). 2^17 (OWASP's figure for these r and p; the Go age writes 2^18) would make
# it 160 MiB to double an attacker's cost per guess: one bit, less than one more letter of passphrase gives
# (backup.passphrase_advice asks for 15 characters). Fixed, never timed: a backup's memory is the same on
# every machine. Files with a higher factor (earlier backups, `age -p`), up to MAX_WORK_FACTOR, still open.
WORK_FACTOR = 16
MAX_WORK_FACTOR = 22  # the Go age's limit for files it reads: 4 GiB and about 15 s
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
SALT_BYTES = 16
FILE_KEY_BYTES = 16
NONCE_BYTES = 16
CHUNK = 64 * 1024
TAG_BYTES = 16
SEALED_CHUNK = CHUNK + TAG_BYTES
_COLUMNS = 64  # base64 characters per header body line
_LONGEST_LINE = 1024  # a header line longer than this is not age
_MOST_LINES = 64
_VCHAR = re.compile(rb"[\x21-\x7e]+")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*")
_DECIMAL = re.compile(rb"[1-9][0-9]*")


class DecryptError(Exception):
    """Why a file cannot be decrypted, in one line (wrong passphrase, damaged, not a passphrase age file)."""


def _encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _decode(text: bytes, what: str) -> bytes:
    """Canonical unpadded base64 only, as the format requires: no padding, no other characters, no stray bits."""
    if not _BASE64.fullmatch(text) or len(text) % 4 == 1:
        raise DecryptError(f"its header is malformed ({what} is not base64)")
    data = binascii.a2b_base64(text + b"=" * (-len(text) % 4))
    if _encode(data) != text:
        raise DecryptError(f"its header is malformed ({what} is not canonical base64)")
    return data


def _scrypt(passphrase: str, salt: bytes, work_factor: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    secret = passphrase.encode("utf-8", "surrogateescape")  # a variable's bytes as the shell gave them
    return Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1).derive(secret)


def _hkdf(key: bytes, salt: bytes | None, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def _header_mac(file_key: bytes, header: bytes):
    """The HMAC-SHA256 of HEADER (through its closing ``---``) under the file key's header key, to finalize or verify."""
    from cryptography.hazmat.primitives import hashes, hmac

    mac = hmac.HMAC(_hkdf(file_key, None, b"header"), hashes.SHA256())
    mac.update(header)
    return mac


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _payload_cipher(file_key: bytes, nonce: bytes):
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    return ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))


class Encryptor:
    """Encrypts one stream to PASSPHRASE. The key derivation (scrypt, 128·8·2^WORK_FACTOR bytes for a
    moment) happens here, when the object is made, so the caller chooses when that memory is held; it is
    released before :meth:`encrypt` streams the payload in chunks of 64 KiB."""

    def __init__(self, passphrase: str, work_factor: int = WORK_FACTOR) -> None:
        if not passphrase:
            raise ValueError("an empty passphrase protects nothing")
        if not WORK_FACTOR <= work_factor <= MAX_WORK_FACTOR:
            raise ValueError(f"scrypt work factor {work_factor} is outside {WORK_FACTOR}..{MAX_WORK_FACTOR}")
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        self._file_key = os.urandom(FILE_KEY_BYTES)
        salt = os.urandom(SALT_BYTES)
        wrapped = ChaCha20Poly1305(_scrypt(passphrase, salt, work_factor)).encrypt(bytes(12), self._file_key, None)
        header = b"%s-> scrypt %s %d\n%s\n---" % (INTRO, _encode(salt), work_factor, _encode(wrapped))
        self.header = header + b" " + _encode(_header_mac(self._file_key, header).finalize()) + b"\n"

    def encrypt(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        """The encrypted file: the header, then PIECES (any sizes) sealed in chunks as they come."""
        nonce = os.urandom(NONCE_BYTES)
        cipher = _payload_cipher(self._file_key, nonce)
        yield self.header + nonce
        pending, counter = bytearray(), 0
        for piece in pieces:
            pending += piece
            # a full chunk is sealed as the last one unless more follows, so wait for more than a chunk
            while len(pending) > CHUNK:
                yield cipher.encrypt(_nonce(counter, False), bytes(pending[:CHUNK]), None)
                del pending[:CHUNK]
                counter += 1
        yield cipher.encrypt(_nonce(counter, True), bytes(pending), None)


class Decryptor:
    """Reads an age file encrypted with a passphrase from HANDLE as a binary file object (:meth:`read`).

    The header is parsed, the file key unwrapped (scrypt) and the header's MAC checked when the object is
    made; each 64 KiB chunk is authenticated before any of it is returned, so nothing unauthenticated is
    ever read. :meth:`finish` checks that the payload ended with its final chunk and nothing after it.
    DecryptError says what is wrong.
    """

    def __init__(self, handle: BinaryIO, passphrase: str, max_work_factor: int = MAX_WORK_FACTOR) -> None:
        self._handle = handle
        header, salt, work_factor, wrapped, mac = self._parse_header(max_work_factor)
        from cryptography.exceptions import InvalidSignature, InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        try:
            key = _scrypt(passphrase, salt, work_factor)
        except MemoryError:
            raise DecryptError(f"its scrypt work factor 2^{work_factor} needs {2 ** (work_factor + 10 - 20)} MiB of "
                               "memory, more than this machine gave") from None
        try:
            file_key = ChaCha20Poly1305(key).decrypt(bytes(12), wrapped, None)
        except InvalidTag:
            raise DecryptError("wrong passphrase, or the file was damaged") from None
        try:
            _header_mac(file_key, header).verify(mac)
        except InvalidSignature:
            raise DecryptError("its header was changed (the header MAC does not match)") from None
        nonce = self._handle.read(NONCE_BYTES)
        if len(nonce) != NONCE_BYTES:
            raise DecryptError("the file was cut short after its header")
        self._invalid_tag = InvalidTag
        self._cipher = _payload_cipher(file_key, nonce)
        self._sealed = bytearray()  # read from HANDLE, not yet opened
        self._plain = memoryview(b"")
        self._counter = 0
        self._ended = False

    def _line(self) -> bytes:
        line = self._handle.readline(_LONGEST_LINE)
        if not line.endswith(b"\n"):
            raise DecryptError("its header is malformed or cut short (a line without its end)")
        return line[:-1]

    def _parse_header(self, max_work_factor: int) -> tuple[bytes, bytes, int, bytes, bytes]:
        """The header up to its MAC, the scrypt salt, work factor and wrapped key, and the MAC, all checked for form."""
        if self._handle.readline(_LONGEST_LINE) != INTRO:
            raise DecryptError("it is not an age file (age-encryption.org/v1)")
        header, stanzas, body = [INTRO], [], None  # BODY: the lines of the stanza being read, until its short line
        for _ in range(_MOST_LINES):
            line = self._line()
            if line.startswith(b"---"):
                fields = line.split(b" ")
                if len(fields) != 2 or fields[0] != b"---" or body is not None:
                    raise DecryptError("its header is malformed (the closing line)")
                mac = _decode(fields[1], "the header MAC")
                header.append(b"---")
                break
            header.append(line + b"\n")
            if body is not None:
                if len(line) > _COLUMNS:
                    raise DecryptError("its header is malformed (a body line is too long)")
                body.append(_decode(line, "a body line"))
                if len(line) < _COLUMNS:  # only a body's last line is short
                    stanzas[-1] = (stanzas[-1][0], b"".join(body))
                    body = None
            elif line.startswith(b"->"):
                fields = line.split(b" ")
                if fields[0] != b"->" or len(fields) < 2 or not all(_VCHAR.fullmatch(f) for f in fields[1:]):
                    raise DecryptError("its header is malformed (a recipient line)")
                stanzas.append((fields[1:], b""))
                body = []
            else:
                raise DecryptError("its header is malformed (an unexpected line)")
        else:
            raise DecryptError("its header is malformed (no closing line)")
        kinds = [fields[0] for fields, _ in stanzas]
        if b"scrypt" not in kinds:
            raise DecryptError("it is encrypted to age keys, not with a passphrase")
        if len(stanzas) != 1:
            raise DecryptError("its header is malformed (a passphrase stanza must be the only one)")
        (fields, wrapped), = stanzas
        if len(fields) != 3 or not _DECIMAL.fullmatch(fields[2]):
            raise DecryptError("its header is malformed (the passphrase stanza)")
        salt = _decode(fields[1], "the scrypt salt")
        work_factor = int(fields[2])
        if len(salt) != SALT_BYTES or len(wrapped) != FILE_KEY_BYTES + TAG_BYTES:
            raise DecryptError("its header is malformed (the passphrase stanza)")
        if work_factor > max_work_factor:
            raise DecryptError(f"its scrypt work factor 2^{work_factor} is above the limit 2^{max_work_factor} "
                               f"(it would need {2 ** (work_factor + 10 - 30)} GiB of memory to open)")
        return b"".join(header), salt, work_factor, wrapped, mac

    def _fill(self, size: int) -> None:
        while len(self._sealed) < size:
            block = self._handle.read(size - len(self._sealed))
            if not block:
                return
            self._sealed += block

    def _open_chunk(self) -> None:
        self._fill(SEALED_CHUNK + 1)  # one byte more tells whether this chunk is the last
        sealed = bytes(self._sealed[:SEALED_CHUNK])
        del self._sealed[:SEALED_CHUNK]
        last = not self._sealed
        number = self._counter + 1
        if len(sealed) < TAG_BYTES:
            raise DecryptError(f"the file was cut short (chunk {number} of its payload is incomplete)")
        try:
            plain = self._cipher.decrypt(_nonce(self._counter, last), sealed, None)
        except self._invalid_tag:
            raise DecryptError(self._why_not(sealed, last, number)) from None
        if last and not plain and self._counter:
            raise DecryptError("the file is malformed (its final chunk is empty)")
        self._plain = memoryview(plain)
        self._counter += 1
        self._ended = last

    def _why_not(self, sealed: bytes, last: bool, number: int) -> str:
        """Name the failure of chunk NUMBER: sealed with the other end-of-file flag, it shows how the file was cut."""
        if len(sealed) == SEALED_CHUNK:
            try:
                self._cipher.decrypt(_nonce(self._counter, not last), sealed, None)
            except self._invalid_tag:
                pass
            else:
                return ("the file was cut short (its final chunk is missing)" if last else
                        f"data follows its final chunk (chunk {number}): the file was extended")
        return f"chunk {number} of its payload fails authentication: the file was damaged or tampered with"

    def read(self, size: int = -1) -> bytes:
        """Up to SIZE bytes of plaintext (all that is left when SIZE < 0); b"" at the authenticated end."""
        out = []
        while size != 0:
            if not self._plain:
                if self._ended:
                    break
                self._open_chunk()
                continue
            taken = self._plain if size < 0 else self._plain[:size]
            self._plain = self._plain[len(taken):]
            out.append(bytes(taken))
            if size > 0:
                size -= len(taken)
        return b"".join(out)

    def finish(self) -> None:
        """Authenticate the rest of the payload (discarding it) through its final chunk."""
        while not self._ended:
            self._plain = memoryview(b"")
            self._open_chunk()
