"""HTTP for the remote stores: retries with exponential backoff, errors in the server's words.

Policy: a connection error, a timeout or a 5xx is *transient* and retried (``retries`` times after
the first attempt, waiting ``backoff_s``, then twice that, … capped at ``max_backoff_s``); a 4xx is
the client's fault (bad query, wrong password, unknown repository) and is never retried. Every
operation we retry is idempotent (GSP PUT, DROP + INSERT DATA, a whole GraphDB transaction), so a
retry after a lost response cannot duplicate data.

Error messages carry the method, the URL without its query string and the server's message (for
RDF4J/GraphDB a ``TYPE: message`` body); the password is masked wherever it might appear.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests

from kgqa.errors import StoreError
from kgqa.stores.config import StoreConfig

log = logging.getLogger("kgqa.stores.http")
T = TypeVar("T")

#: Server messages are cut to this many characters: an HTML error page must not flood the log.
MAX_MESSAGE = 600


class TransientStoreError(StoreError):
    """A failure worth retrying: connection refused/reset, timeout, 5xx."""


class GaveUpError(StoreError):
    """The retries are spent; ``unreachable`` when the last attempt could not reach the server at all."""

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class ClientStoreError(StoreError):
    """A 4xx: the request itself is wrong; retrying cannot help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0

    @classmethod
    def from_config(cls, cfg: StoreConfig) -> RetryPolicy:
        return cls(max(0, cfg.retries), max(0.0, cfg.backoff_s), max(0.0, cfg.max_backoff_s))

    def delay(self, retry: int) -> float:
        return min(self.backoff_s * (2**retry), self.max_backoff_s)


def with_retries(
    call: Callable[[], T], policy: RetryPolicy, what: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """``call()``, retried on :class:`TransientStoreError` only."""
    for retry in range(policy.retries + 1):
        try:
            return call()
        except TransientStoreError as exc:
            if retry >= policy.retries:
                attempts = policy.retries + 1
                raise GaveUpError(f"{exc} (gave up after {attempts} attempt{'s' * (attempts > 1)})",
                                  unreachable="cannot reach the server" in str(exc)) from None  # fmt: skip
            delay = policy.delay(retry)
            log.warning("%s: %s; retrying in %.2fs (%d/%d)", what, exc, delay, retry + 1, policy.retries)
            sleep(delay)
    raise AssertionError("unreachable")


def check_url(key: str, url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; else ConfigError naming the config key."""
    from kgqa.errors import ConfigError

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}={public_url(url) if parts.hostname else url!r}: not an http(s) URL with a host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise ConfigError(f"{key}={public_url(url)!r}: the port is not a number from 0 to 65535") from None
    return url


def public_url(url: str) -> str:
    """The URL without userinfo, query or fragment (safe to log)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def server_message(body: str) -> str:
    """The server's words, one line, bounded (RDF4J/GraphDB errors read ``TYPE: message``)."""
    text = " ".join(body.split())
    return text[:MAX_MESSAGE] + ("…" if len(text) > MAX_MESSAGE else "")


class Redactor:
    def __init__(self, *secrets: str) -> None:
        self.secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


class HttpClient:
    """A ``requests`` session with the store's auth, timeout and error policy."""

    def __init__(self, cfg: StoreConfig, *, name: str) -> None:
        self.cfg = cfg
        self.name = name
        self.policy = RetryPolicy.from_config(cfg)
        self.redact = Redactor(cfg.password)
        self.session = requests.Session()
        if cfg.username and cfg.auth == "basic":
            self.session.auth = (cfg.username, cfg.password)

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        retry: bool = True,
        ok: tuple[int, ...] = (200, 201, 204),
        **kwargs: Any,
    ) -> requests.Response:
        """Send once (``retry=False``) or under the retry policy; raise StoreError unless the status is ``ok``."""
        kwargs.setdefault("timeout", self.cfg.timeout_s)

        def once() -> requests.Response:
            return self._send(method, url, what=what, ok=ok, **kwargs)

        return with_retries(once, self.policy, what) if retry else once()

    def _send(
        self, method: str, url: str, *, what: str, ok: tuple[int, ...], **kwargs: Any
    ) -> requests.Response:
        where = f"{self.name} {what} ({method} {public_url(url)})"
        try:
            response = self.session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientStoreError(
                self.redact(f"{where}: cannot reach the server: {_reason(exc)}")
            ) from None
        except requests.RequestException as exc:
            raise StoreError(self.redact(f"{where}: {exc}")) from None
        if response.status_code in ok:
            return response
        message = self.redact(f"{where}: HTTP {response.status_code}: {server_message(response.text)}")
        if response.status_code >= 500:
            raise TransientStoreError(message)
        raise ClientStoreError(message, response.status_code)

    def close(self) -> None:
        self.session.close()


def _reason(exc: Exception) -> str:
    """The innermost reason of a requests/urllib3 connection error, without the long repr chain."""
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Connection reset", "Connection aborted",
                   "Name or service not known", "Remote end closed connection"):  # fmt: skip
        if marker in text:
            return marker.lower()
    return text[:200]


def headers(accept: str | None = None, content_type: str | None = None, **extra: str) -> Mapping[str, str]:
    out = dict(extra)
    if accept:
        out["Accept"] = accept
    if content_type:
        out["Content-Type"] = content_type
    return out
