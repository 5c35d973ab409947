"""Send a FHIR Bundle to a server (`tpi export fhir --post URL`) with the standard library's HTTP client.

The bearer token comes from TPI_FHIR_TOKEN, never from a command line (shell history, process lists).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

from tpi_cli.errors import InputError, SendError

TOKEN_ENV = "TPI_FHIR_TOKEN"
TIMEOUT_S = 120.0
_MAX_MESSAGE = 500


def post_bundle(url: str, data: bytes, *, delivered: Callable[[], None], timeout: float = TIMEOUT_S) -> str:
    """POST DATA (a transaction Bundle) to the server's base URL; return a one-line summary of its answer.

    DELIVERED is called once the server has the data (it answered, taking or refusing it): the disclosure
    happened either way. Raises SendError (exit 3) naming the server and its message when the send fails
    or is refused.
    """
    if not url.startswith(("http://", "https://")):
        raise InputError(f"--post: {url!r} is not a FHIR server's base URL; write it as https://host/fhir")
    headers = {"Content-Type": "application/fhir+json; charset=utf-8", "Accept": "application/fhir+json"}
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        delivered()
        raise SendError(f"the FHIR server {url} refused the bundle (HTTP {error.code}): "
                        f"{_outcome(error.read()) or error.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise SendError(f"cannot send to the FHIR server {url}: {reason}") from None
    delivered()
    return summary(status, body)


def summary(status: int, body: bytes) -> str:
    """'HTTP 200: 12 entries — 10 201 Created, 2 200 OK' from a transaction-response Bundle."""
    try:
        answer: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"HTTP {status}: the server's answer is not FHIR JSON"
    if not isinstance(answer, dict) or answer.get("resourceType") != "Bundle":
        return f"HTTP {status}: {answer.get('resourceType', 'no resource') if isinstance(answer, dict) else 'no resource'}"
    statuses = Counter(str((entry.get("response") or {}).get("status", "no status"))
                       for entry in answer.get("entry") or [] if isinstance(entry, dict))
    counts = ", ".join(f"{count} {text}" for text, count in sorted(statuses.items()))
    total = sum(statuses.values())
    return f"HTTP {status}: {answer.get('type', 'bundle')} with {total} entr{'y' if total == 1 else 'ies'}" + (
        f" — {counts}" if counts else "")


def _outcome(body: bytes) -> str:
    """The diagnostics of an OperationOutcome answer, or the start of whatever text the server sent."""
    try:
        answer = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body[:_MAX_MESSAGE].decode("utf-8", "replace").strip()
    if isinstance(answer, dict) and answer.get("resourceType") == "OperationOutcome":
        lines = [issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code", "")
                 for issue in answer.get("issue") or [] if isinstance(issue, dict)]
        return "; ".join(line for line in lines if line)[:_MAX_MESSAGE]
    return json.dumps(answer)[:_MAX_MESSAGE]
