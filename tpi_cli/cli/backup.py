"""`tpi backup create|verify|restore`: one encrypted file holding the whole store, checked and restorable."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tpi_cli.cli import console, progress
from tpi_cli.cli.context import open_store
from tpi_cli.errors import InputError

PASSPHRASE_ENV = "TPI_BACKUP_PASSPHRASE"

backup_app = typer.Typer(
    help="Back up the whole store to one encrypted file (age format), verify it, restore it.\n\nExamples:\n\n\b\n"
    "tpi backup create ~/backups/tpi-2026-11-25.tpibackup\ntpi backup verify ~/backups/tpi-2026-11-25.tpibackup\n"
    "tpi backup restore ~/backups/tpi-2026-11-25.tpibackup --to ~/tpi-restored",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="The backup file.", metavar="FILE", show_default=False)]


def passphrase(*, confirm: bool) -> str:
    """The backup passphrase: $TPI_BACKUP_PASSPHRASE, else asked at the terminal (twice when CONFIRM)."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise InputError(f"passphrase: set {PASSPHRASE_ENV} or run in a terminal to be asked"
                         + (" (or give --no-encrypt)" if confirm else ""))
    answer = typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm, err=True)
    if not answer:
        raise InputError("passphrase: an empty passphrase protects nothing; give one")
    return answer


@backup_app.command("create")
@console.friendly
def create(
    file: FileArg,
    no_encrypt: Annotated[bool, typer.Option("--no-encrypt", help="Write the backup unencrypted (a .tar.gz).")] = False,
) -> None:
    """Write a consistent snapshot of the whole store to FILE, encrypted with a passphrase.

    Writers wait while the snapshot is read. Open it elsewhere with `age -d FILE | tar -xz`.

    Example:

    \b
    tpi backup create /media/usb/tpi-2026-11-25.tpibackup
    """
    from tpi_cli import agefile, audit, backup

    store = open_store()
    if store.kind != "tinydb":
        raise InputError("store: a PostgreSQL store is backed up by the database (pg_dump); or `tpi store copy` "
                         "it into a folder and back that up")
    secret = None if no_encrypt else passphrase(confirm=True)
    advice = None if secret is None else backup.passphrase_advice(secret)
    console.warnings([advice] if advice else [])
    with progress.shown("Backing up the store"):
        # the key is derived first, while the process holds no archive: scrypt's 64 MiB is freed before it starts
        encryptor = None if secret is None else agefile.Encryptor(secret)
        made = backup.create(store, file, encryptor, created_at=audit.now_text(), created_by=store.user())
    files = made.manifest["files"]
    head = made.manifest["audit_head"]
    console.info(f"Wrote {file} ({'encrypted' if made.encrypted else 'NOT encrypted'}): {len(files)} store files, "
                 f"audit head {head['seq'] if head else 0}")


@backup_app.command("verify")
@console.friendly
def verify(file: FileArg) -> None:
    """Decrypt FILE and check every file's SHA-256, the audit chain and every record: exit 0, or 1 naming what differs.

    Example:

    \b
    tpi backup verify /media/usb/tpi-2026-11-25.tpibackup
    """
    from tpi_cli import backup

    secret = passphrase(confirm=False) if backup.is_encrypted(file) else None
    checked = backup.verify(file, secret)
    result = checked.verification
    console.info(f"backup verified: {len(checked.manifest['files'])} files match the manifest; audit trail of "
                 f"{result.events} events and {_counts(result)} verified (created {checked.manifest.get('created_at')})")


@backup_app.command("restore")
@console.friendly
def restore(
    file: FileArg,
    to: Annotated[Path, typer.Option("--to", help="A new or empty folder to restore the store into.",
                                     show_default=False)],
) -> None:
    """Restore the store in FILE into a new or empty folder, then verify it there.

    Example:

    \b
    tpi backup restore /media/usb/tpi-2026-11-25.tpibackup --to ~/tpi-restored
    """
    from tpi_cli import backup

    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise InputError(f"--to: {to} is not an empty folder; restore into a new or empty folder")
    secret = passphrase(confirm=False) if backup.is_encrypted(file) else None
    restored = backup.restore(file, to, secret)
    result = restored.verification
    console.info(f"Restored into {to} and verified: {_counts(result)}, {result.events} audit events. "
                 f"Use it with: tpi --store {to} …")


def _counts(result) -> str:
    return ", ".join(console.counted(n, kind) for kind, n in sorted(result.records.items())) or "no records"


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
