"""Domain errors. The CLI turns each into one line and its documented exit code."""


class TpiError(Exception):
    exit_code = 2


class InputError(TpiError):
    """Bad input: the message names the field and the fix (exit 2)."""

    exit_code = 2


class RefusedError(TpiError):
    """A safety check refused the visit (exit 1); overridable with --override-reason."""

    exit_code = 1


class StoreError(TpiError):
    """The store or a file cannot be read or written (exit 3); the message names the path."""

    exit_code = 3


class SendError(TpiError):
    """A FHIR server refused what was sent, or could not be reached (exit 3); the message names the server."""

    exit_code = 3


class VerificationError(TpiError):
    """A verification found a difference (exit 1): a backup that does not decrypt or does not match."""

    exit_code = 1
