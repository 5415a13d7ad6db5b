"""Test support shipped with kgqa: a real Oxigraph server on 127.0.0.1 for integration tests.

The PyPI package ``oxigraph`` ships the server binary; :class:`OxigraphServer` starts it on a
free port with ``oxigraph serve --location DIR --bind 127.0.0.1:PORT`` and can kill it like a
crash (SIGKILL) and start it again on the same directory and port.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_binary() -> str | None:
    venv_bin = Path(sys.executable).parent / "oxigraph"
    return str(venv_bin) if venv_bin.exists() else shutil.which("oxigraph")


class OxigraphServer:
    """``oxigraph serve --location DIR --bind 127.0.0.1:PORT``; restartable on the same dir and port."""

    def __init__(self, location: Path, port: int | None = None) -> None:
        self.location = location
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> OxigraphServer:
        binary = oxigraph_binary()
        assert binary, "the oxigraph server binary (PyPI package `oxigraph`) is not installed"
        self.proc = subprocess.Popen(
            [binary, "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {self.proc.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("oxigraph did not start listening in time")

    def kill(self) -> None:
        """SIGKILL, like a crash: no clean shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None
