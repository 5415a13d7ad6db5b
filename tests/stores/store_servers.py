"""A proxy on 127.0.0.1 that injects faults (5xx, 4xx, Basic auth) in front of a real Oxigraph server."""

from __future__ import annotations

import base64
import http.client
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11


@dataclass
class Fault:
    status: int
    body: str
    times: int = 1
    method: str | None = None
    path: str | None = None
    #: seconds to stall before answering (a hung server); status 0 = then forward as usual
    delay_s: float = 0.0


@dataclass
class ProxyState:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    log: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        status: int,
        body: str,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        delay_s: float = 0.0,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(status, body, times, method, path, delay_s))

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.method in (None, method)
                    and (fault.path is None or fault.path in path)
                ):
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
                return self._reply(
                    401, b"Unauthorized: bad user name or password", {"WWW-Authenticate": 'Basic realm="x"'}
                )
        fault = state.take_fault(self.command, self.path)
        if fault and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault and fault.status:
            return self._reply(fault.status, fault.body.encode())
        up = urlsplit(state.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization", "connection")
        }
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


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that timed out on a stalled request closes the socket: expected here, not noise.
        pass


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.state = ProxyState(upstream)
        handler = type("Handler", (_ProxyHandler,), {"state": self.state})
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
