"""The pseudonymisation key: where it lives, and why losing it is never silent. I/O only.

Case IRIs are ``HMAC-SHA256(key, patient id)``: the same key gives the same IRIs run after run, so a
re-run replaces a note's graph and a case's facts stay one case. A new key gives every case a new
IRI — the store then holds each patient twice, under two unrelated pseudonyms. So:

* the key is read from the environment variable ``rdf.key_env`` (production secrets) or else from a
  key file kept *outside* the checkout and every disposable directory: ``rdf.key_file``, else
  ``$KGQA_KEY_FILE``, else ``$XDG_CONFIG_HOME/kgqa/pseudonym.key`` (``~/.config/kgqa/…``);
* the key file is created only when asked (``rdf.create_key=true``, which ``make demo`` passes),
  mode 0600 in a 0700 directory, and never while the store already holds note graphs (they were
  minted with an earlier key); a missing key is otherwise a :class:`ConfigError` saying how to
  restore it or create one;
* a key file that others can read is refused, as ssh refuses a private key;
* a key that is not the one a run directory or a store was made with (given through the environment,
  say) is refused too: each run records the key's *fingerprint* (:func:`key_fingerprint`, an HMAC of
  a constant: it tells keys apart and reveals nothing of them) in ``run.json``, ``summary.json`` and
  its run graph, and the next run compares (:func:`check_key_fingerprint`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from kgqa import PROJECT_ROOT
from kgqa.errors import ConfigError
from kgqa.rdf.config import RdfConfig

log = logging.getLogger(__name__)

#: environment variable naming the key file (when rdf.key_file is empty)
KEY_FILE_ENV = "KGQA_KEY_FILE"
#: where kgqa ≤ 0.1 kept the key: deleted by `make clean`, so a key found there is only moved, never reused
LEGACY_KEY_FILE = PROJECT_ROOT / ".cache" / "pseudonym.key"
#: the checkout's disposable directories (`make clean`): a key file there is lost on the next clean
DISPOSABLE = tuple(PROJECT_ROOT / d for d in ("outputs", "multirun", ".cache", ".pytest_cache"))


def key_file_path(cfg: RdfConfig, environ: Mapping[str, str] | None = None) -> Path:
    """The key file this config reads: rdf.key_file, else $KGQA_KEY_FILE, else the XDG config home."""
    env = os.environ if environ is None else environ
    if cfg.key_file:
        return Path(cfg.key_file).expanduser()
    if env.get(KEY_FILE_ENV):
        return Path(env[KEY_FILE_ENV]).expanduser()
    config_home = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(config_home).expanduser() / "kgqa" / "pseudonym.key"


def read_key_file(path: Path) -> str:
    """The key in ``path``; ConfigError when it is unreadable, empty, or readable by others."""
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"rdf.key_file: cannot read the pseudonymisation key {path}: {exc.strerror or exc}") from None
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"rdf.key_file: {path} is readable by other users (mode {stat.S_IMODE(st.st_mode):o}); "
            f"it keys every patient pseudonym: chmod 600 {path}"
        )
    if not text:
        raise ConfigError(f"rdf.key_file: {path} is empty; restore the key from its backup")
    return text


def create_key_file(path: Path) -> str:
    """A new random key in ``path`` (which must not exist), mode 0600; the key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"rdf.key_file: {path} appeared while a new key was being created; run again") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


def _note_graphs(graphs: Iterable[str], base_iri: str) -> list[str]:
    prefix = f"{base_iri}graph/note/"
    return [g for g in graphs if str(g).startswith(prefix)]


def load_key(
    cfg: RdfConfig,
    environ: Mapping[str, str] | None = None,
    *,
    stored_graphs: Callable[[], Iterable[str]] | None = None,
) -> str | None:
    """The pseudonymisation key for ``cfg`` (None when nothing is pseudonymised).

    ``stored_graphs`` lists the named graphs of the store the run writes to; it is asked only
    before a new key would be created, and a store that holds note graphs refuses the new key.
    """
    if not (cfg.pseudonymise or cfg.pseudonymise_notes):
        return None
    env = os.environ if environ is None else environ
    if env.get(cfg.key_env):
        return env[cfg.key_env]
    path = key_file_path(cfg, env)
    if any(path.resolve().is_relative_to(d.resolve()) for d in DISPOSABLE):
        log.warning("the pseudonymisation key file %s is in a directory `make clean` deletes; keep it elsewhere", path)
    if path.exists():
        return read_key_file(path)
    if LEGACY_KEY_FILE.is_file():
        raise ConfigError(
            f"rdf.key_file: no pseudonymisation key at {path}, but an earlier kgqa's key is in {LEGACY_KEY_FILE} "
            f"(which `make clean` deletes); to keep its case IRIs: mkdir -p {path.parent} && mv {LEGACY_KEY_FILE} {path}"
        )
    restore = f"restore the key to {path} (or set {cfg.key_env})"
    if not cfg.create_key:
        raise ConfigError(
            f"rdf.key_file: no pseudonymisation key at {path}; {restore} — or, for a first run, "
            "create one with rdf.create_key=true (every case IRI depends on it: back it up)"
        )
    if stored_graphs is not None:
        existing = _note_graphs(stored_graphs(), cfg.base_iri)
        if existing:
            raise ConfigError(
                f"rdf.create_key: the store already holds {len(existing)} note graph(s) minted with an earlier "
                f"key; a new key would give every case a second IRI. Restore the key to {path} (or set {cfg.key_env}), "
                "or empty the store first (kgqa store drop --all)"
            )
    key = create_key_file(path)
    log.warning("created a new pseudonymisation key in %s: back it up — without it case IRIs cannot be "
                "minted again", path)  # fmt: skip
    return key


#: what a key's fingerprint is the HMAC of: a constant, so the fingerprint names the key and reveals nothing of it
_FINGERPRINT_MESSAGE = b"kgqa pseudonymisation key fingerprint v1"


def key_fingerprint(key: str | None) -> str:
    """16 hex digits of HMAC-SHA256(key, a constant); "" without a key (nothing pseudonymised).

    Equal keys give equal fingerprints; the key cannot be computed back from one, and 64 bits keep two
    keys apart. Safe to write into run directories, graphs and logs (the key itself never is).
    """
    if not key:
        return ""
    return hmac.new(key.encode("utf-8"), _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


def key_source(cfg: RdfConfig, environ: Mapping[str, str] | None = None) -> str:
    """Where ``load_key`` takes the key from, in words for an error message: the variable or the key file."""
    env = os.environ if environ is None else environ
    return f"${cfg.key_env}" if env.get(cfg.key_env) else f"the key file {key_file_path(cfg, env)}"


def check_key_fingerprint(current: str, recorded: str, made: str, source: str, override: str) -> None:
    """ConfigError in one line when ``recorded`` (``made``: "the run directory D", "the store's latest
    run") is the fingerprint of another key than ``current``'s, read from ``source``; ``override`` is
    how to go on deliberately. Nothing recorded (a run of an earlier kgqa) or nothing pseudonymised
    passes."""
    if current and recorded and current != recorded:
        raise ConfigError(
            f"rdf.key_env/rdf.key_file: the pseudonymisation key from {source} (fingerprint {current}) is not "
            f"the key {made} was made with (fingerprint {recorded}): its case IRIs would not match this run's. "
            f"Use that key again, or {override}"
        )
