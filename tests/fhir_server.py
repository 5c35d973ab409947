"""A throwaway FHIR R4 server on 127.0.0.1 for the tests: sekmet-fhir (PyPI), a small FastAPI server with
transaction bundles, conditional create/update and urn:uuid rewriting, storing into a temp folder.

It runs as a child process (its own interpreter: uvicorn and the server's threads stay out of the test
process), answers only to a bearer token, validates what it receives with fhir.resources R4B, and is
stopped when the session ends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

START_TIMEOUT_S = 60
TOKEN = "tpi-test-token"


@dataclass(frozen=True)
class FhirServer:
    base_url: str
    token: str

    def get(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.base_url}/{path}", headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def search(self, kind: str, **params: str) -> list[dict[str, Any]]:
        """Every match of a search (one page of up to 500 is plenty for a test)."""
        query = "&".join(f"{key}={quote(value, safe=':|/')}" for key, value in {**params, "_count": "500"}.items())
        bundle = self.get(f"{kind}?{query}")
        return [entry["resource"] for entry in bundle.get("entry", []) if entry.get("search", {}).get("mode") != "outcome"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(folder: Path, port: int) -> str:
    # JSON is YAML: the server reads its settings file with yaml.safe_load
    return json.dumps({
        "base_url": f"http://127.0.0.1:{port}/fhir", "host": "127.0.0.1", "port": port,
        "data_dir": str(folder / "data"), "log_inbound": False,
        "server_auth": {"types": ["bearer"], "tokens": [TOKEN]},
        "simulator": {"enabled": False},
        "validation": {"inbound": "strict"},
    })


@contextlib.contextmanager
def running_server() -> Iterator[FhirServer]:
    folder = Path(tempfile.mkdtemp(prefix="tpi-fhir-"))
    port = _free_port()
    config = folder / "settings.yaml"
    config.write_text(_settings(folder, port))
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from sekmet.cli import app; app()", "serve", "--config", str(config)],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    server = FhirServer(f"http://127.0.0.1:{port}/fhir", TOKEN)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the FHIR test server exited: {(folder / 'server.log').read_text()[-2000:]}")
            try:
                server.get("metadata")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the FHIR test server did not answer within {START_TIMEOUT_S} s") from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
