"""Test support shipped with kgqa: real SPARQL servers on 127.0.0.1 for integration tests.

The PyPI package ``oxigraph`` ships the server binary; :class:`OxigraphServer` starts it on a
free port with ``oxigraph serve --location DIR --bind 127.0.0.1:PORT`` and can kill it like a
crash (SIGKILL) and start it again on the same directory and port. :class:`VirtuosoServer` starts
Virtuoso 7 (Debian package ``virtuoso-opensource``) on a fresh database in a directory, so the
named queries and the store are also checked on a second engine.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
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


def virtuoso_binary() -> str | None:
    """``virtuoso-t`` (Debian package ``virtuoso-opensource``) on PATH or in /usr/bin."""
    found = shutil.which("virtuoso-t")
    if found:
        return found
    return "/usr/bin/virtuoso-t" if Path("/usr/bin/virtuoso-t").is_file() else None


def virtuoso_isql(binary: str) -> str | None:
    """Virtuoso's ISQL client: Debian names it ``isql-vt``; an upstream build puts ``isql`` beside
    ``virtuoso-t`` (never unixODBC's ``isql`` from elsewhere on PATH, a different program)."""
    beside = Path(binary).parent
    for candidate in (beside / "isql-vt", beside / "isql"):
        if candidate.is_file():
            return str(candidate)
    return shutil.which("isql-vt")


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
; as in the virtuoso.ini Debian and OpenLink ship: under the built-in default (1) ASK answers come
; back as a one-column SELECT (__ASK_RETVAL) instead of a boolean
CaseMode = 2
DirsAllowed = .
; a test database: small buffers, one thread per query, no periodic checkpoints
NumberOfBuffers = 2000
MaxDirtyBuffers = 1200
ThreadsPerQuery = 1
CheckpointInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 4
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 100000
"""


class VirtuosoServer:
    """``virtuoso-t +foreground +configfile DIR/virtuoso.ini``: a fresh database in DIR, SPARQL at
    ``{base}/sparql`` (queries and updates; no Graph Store Protocol URL kgqa can use).

    Virtuoso's ``/sparql`` endpoint runs as the SQL user ``SPARQL``, which may only read; :meth:`start`
    grants it ``SPARQL_UPDATE`` through ISQL as ``dba`` (the password of a new database is ``dba``),
    so kgqa's plain ``sparql`` store (no digest auth, which ``/sparql-auth`` would need) can write.
    """

    def __init__(self, location: Path, http_port: int | None = None, sql_port: int | None = None) -> None:
        self.location = location
        self.http_port = http_port or free_port()
        self.sql_port = sql_port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql_url(self) -> str:
        return f"{self.base}/sparql"

    def _output(self, since: int = 0) -> str:
        """What the server printed (from byte ``since`` of its output file), the last 2,000 characters."""
        path = self.location / "virtuoso.out"
        if not path.exists():
            return ""
        with open(path, "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")[-2000:]

    def start(self, timeout_s: float = 60.0) -> VirtuosoServer:
        binary = virtuoso_binary()
        assert binary, "virtuoso-t (Debian package virtuoso-opensource) is not installed"
        isql = virtuoso_isql(binary)
        assert isql, "Virtuoso's isql client (isql-vt) is not installed"
        self.location.mkdir(parents=True, exist_ok=True)
        ini = self.location / "virtuoso.ini"
        ini.write_text(
            _VIRTUOSO_INI.format(dir=self.location, sql_port=self.sql_port, http_port=self.http_port)
        )
        # Output to a file, not a pipe nobody drains: a full pipe would stall the server.
        with open(self.location / "virtuoso.out", "ab") as out:
            since = out.tell()
            self.proc = subprocess.Popen(
                [binary, "+foreground", "+configfile", str(ini)],
                cwd=self.location,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait(timeout_s, since)
            grant = subprocess.run(
                [isql, f"127.0.0.1:{self.sql_port}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                check=False,  # the answer is read below: a restart's "already have role" is fine
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
            said = grant.stdout + grant.stderr
            if grant.returncode != 0 or ("Error" in said and "already have role" not in said):  # a restart
                raise RuntimeError(f"virtuoso: GRANT SPARQL_UPDATE failed: {grant.stdout}{grant.stderr}")
        except BaseException:
            self.kill()
            raise
        return self

    def _wait(self, timeout_s: float, since: int) -> None:
        """Until Virtuoso logs that it is online (its SQL port is up; HTTP comes up before it) and
        ``/sparql`` answers ``ASK {}``. The SQL port is not probed with a bare connect that closes at
        once: a Virtuoso 7.2 probed that way died in its start-up (GPF in Dkernel.c, its session layer)."""
        deadline = time.monotonic() + timeout_s
        ask = f"{self.sparql_url}?query=ASK%20%7B%20%7D"
        online = f"Server online at 127.0.0.1:{self.sql_port}"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"virtuoso exited: {self._output(since)}")
            if online in self._output(since):
                try:
                    with urllib.request.urlopen(ask, timeout=2) as response:
                        if response.status == 200:
                            return
                except OSError:  # urllib's errors are OSErrors too
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"virtuoso did not answer SPARQL in {timeout_s:.0f}s: {self._output(since)}")

    def kill(self) -> None:
        """SIGKILL, like a crash: the database is a throwaway in a temporary directory."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
