"""Servers the store tests talk to, all on 127.0.0.1: a real Oxigraph server, and a proxy that
injects faults (5xx, 4xx, Basic auth) in front of it."""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_binary() -> str | None:
    venv_bin = Path(os.sys.executable).parent / "oxigraph"
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

    def start(self, timeout_s: float = 20.0) -> "OxigraphServer":
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


@dataclass
class Fault:
    status: int
    body: str
    times: int = 1
    method: str | None = None


@dataclass
class ProxyState:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    log: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, status: int, body: str, times: int = 1, method: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(status, body, times, method))

    def take_fault(self, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method in (None, method):
                    fault.times -= 1
                    return fault
        return None


class _ProxyHandler(BaseHTTPRequestHandler):
    state: ProxyState  # set on the subclass

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        state = self.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if state.credentials:
            expected = "Basic " + base64.b64encode(":".join(state.credentials).encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._reply(401, b"Unauthorized: bad user name or password", {"WWW-Authenticate": 'Basic realm="x"'})
        fault = state.take_fault(self.command)
        if fault:
            return self._reply(fault.status, fault.body.encode())
        up = urlsplit(state.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization", "connection")}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as exc:
            return self._reply(502, f"Bad Gateway: {exc}".encode())
        finally:
            conn.close()
        keep = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "location")}
        self._reply(resp.status, data, keep)

    def _reply(self, status: int, data: bytes, headers: dict | None = None) -> None:
        with self.state.lock:
            self.state.log.append((self.command, self.path, status))
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.state = ProxyState(upstream)
        handler = type("Handler", (_ProxyHandler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FaultProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
