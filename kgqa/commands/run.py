"""``kgqa run``: notes -> QA -> values -> linking -> RDF -> triplestore, as a Hydra app.

:func:`execute` is the plain function behind the app (tests call it with a composed config);
``main`` only hands the command line to Hydra. Outputs go to the Hydra run directory
(``hydra.run.dir=…`` moves it): ``graphs.trig`` (every named graph of the run), ``facts.jsonl``,
``notes.jsonl``, ``errors.jsonl``, ``summary.json``, ``run.json`` (what a resumed run must match)
and Hydra's ``.hydra/`` with the resolved config. The last line printed is one JSON object
summarising the run.

Order of work: every check that can fail without the model runs first (value ranges, the notes'
path and format, precision, device, encoding, the output directory, the store opened and
health-checked), so a bad setting costs seconds, not a model load and an hour of QA. A store that
fails later, while loading, loses nothing: every note's records and graph still go to the run
directory, the failures are counted per graph, and ``kgqa store load RUN_DIR`` loads them later.

``kgqa run --resume RUN_DIR [overrides]`` re-runs RUN_DIR with its own overrides; a plain re-run
into the same ``hydra.run.dir`` resumes too (``runner.resume``). SIGINT and SIGTERM stop the run at
once (a batch being stored, or the end of the run, is finished first): the outputs of the notes done
are written, summary.json says ``interrupted`` and the exit code is 130 / 143. A signal is never lost:
it is recorded first and raised again at the next note if anything swallowed it (:class:`_Signals`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from kgqa import __version__
from kgqa.commands._hydra import run_hydra_app
from kgqa.config import RunConfig, check_ranges, masked_yaml, to_object
from kgqa.errors import EXIT_OK, EXIT_PARTIAL, CatalogueError, ConfigError, Interrupted, StoreError
from kgqa.types import ModelInfo, Note, NoteError, RunInfo

log = logging.getLogger("kgqa.run")

USAGE = """usage: kgqa run [group=option …] [key=value …]
       kgqa run --resume RUN_DIR [key=value …]   resume an interrupted run with its own overrides
       kgqa run --accept-new-key …               run under a pseudonymisation key that is not the one the run
                                                 directory or the store was made with (every note is re-run)
       kgqa run --cfg job [key=value …]          print the composed config"""

#: the flag that lets a run go on under another pseudonymisation key than its run directory's or store's
ACCEPT_NEW_KEY = "--accept-new-key"


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if "--help" in argv or "-h" in argv:
        print(run_help([a for a in argv if "=" in a]))
        return 0
    accept_new_key = ACCEPT_NEW_KEY in argv
    argv = [a for a in argv if a != ACCEPT_NEW_KEY]
    if "--resume" in argv:
        i = argv.index("--resume")
        if i + 1 >= len(argv) or "=" in argv[i + 1]:
            raise ConfigError(f"--resume needs the run directory to resume\n{USAGE}")
        argv = resume_argv(Path(argv[i + 1]), argv[:i] + argv[i + 2 :])
    check_overrides(argv)
    task = functools.partial(_hydra_task, accept_new_key=accept_new_key)
    return run_hydra_app(argv, task, config_name="config", prog="kgqa run")


def check_overrides(argv: Sequence[str]) -> None:
    """Compose the config once before Hydra does, so a wrong override is one line naming it (ConfigError).

    Skipped for Hydra's own flags and for sweeps (``-m``), which Hydra expands itself.
    """
    if any(a.startswith("-") for a in argv):
        return
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from kgqa.config import compose

    try:
        compose([a for a in argv if not a.lstrip("+~").startswith("hydra.")])
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(hydra_message(exc)) from None


def hydra_message(exc: BaseException) -> str:
    """Hydra's error and its OmegaConf cause on one line, without the config search path."""
    text = str(exc).split("Config search path")[0]
    cause = exc.__cause__
    if cause is not None and str(cause).splitlines():
        text += ": " + "; ".join(line.strip() for line in str(cause).splitlines()[:3] if line.strip())
    return " ".join(text.split())


def run_help(overrides: Sequence[str] = ()) -> str:
    """``kgqa run --help``: usage, the run's own config groups (read from conf/) and the composed config.

    Written here rather than by Hydra's help, which would list training's groups and the ``base_*``
    schemas as if they were options of ``kgqa run``.
    """
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from kgqa.config import CONF_DIR, RUN_GROUPS, compose

    groups = [f"{g}: {', '.join(sorted(p.stem for p in (CONF_DIR / g).glob('*.yaml')))}" for g in RUN_GROUPS]
    try:
        config = OmegaConf.to_yaml(compose(overrides))  # unresolved: ${oc.env:…} passwords stay references
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(hydra_message(exc)) from None
    return "\n".join([
        "kgqa run: notes -> QA -> values -> linking -> RDF -> triplestore.",
        "",
        USAGE,
        "",
        "== Configuration groups (group=option) ==",
        *groups,
        "",
        "== Config (override any key: key=value) ==",
        config,
        "Outputs go to hydra.run.dir (outputs/DATE/TIME): graphs.trig, facts.jsonl, notes.jsonl, errors.jsonl,",
        "summary.json, run.nq, run.json, kgqa.log. Exit codes: 0 ok, 1 notes failed or not stored, 2 config,",
        "3 store, 4 model, 5 input, 130/143 interrupted (README.md, 'Exit codes'); KGQA_DEBUG=1 prints tracebacks.",
        "Hydra's own flags: kgqa run --hydra-help.",
    ])


def resume_argv(run_dir: Path, extra: Sequence[str]) -> list[str]:
    """The command line that re-runs ``run_dir``: its own overrides, then ``extra``, into the same directory."""
    overrides_file = run_dir / ".hydra" / "overrides.yaml"
    if not overrides_file.is_file():
        raise ConfigError(f"--resume {run_dir}: not a kgqa run directory (no .hydra/overrides.yaml)")
    from omegaconf import OmegaConf

    previous = [str(o) for o in OmegaConf.load(overrides_file)]
    keep = [o for o in previous if not o.lstrip("+~").startswith(("hydra.run.dir=", "output.dir="))]
    return [*keep, *extra, f"hydra.run.dir={run_dir.resolve()}"]


def _hydra_task(cfg: DictConfig, *, accept_new_key: bool = False) -> int:
    from hydra.core.hydra_config import HydraConfig

    run_cfg = to_object(cfg, RunConfig)
    out_dir = Path(run_cfg.output.dir or HydraConfig.get().runtime.output_dir)
    return execute_with_signals(run_cfg, out_dir, config_yaml=masked_yaml(cfg), accept_new_key=accept_new_key)[1]


def execute_with_signals(
    cfg: RunConfig, out_dir: Path, *, config_yaml: str = "", accept_new_key: bool = False
) -> tuple[dict[str, Any], int]:
    """:func:`execute` with SIGINT/SIGTERM as interrupts; the summary (printed as the last line) and the exit code."""
    with signals_as_interrupts():
        summary = execute(cfg, out_dir, config_yaml=config_yaml, accept_new_key=accept_new_key)
        print(json.dumps(summary, ensure_ascii=False))
        late = take_interrupt()  # arrived after summary.json was written: the exit code still says so
    return summary, (128 + late if late and not summary.get("interrupted") else exit_status(summary))


def exit_status(summary: dict[str, Any]) -> int:
    """130/143 when interrupted, 1 when any note failed, was skipped or was not stored, else 0."""
    if summary.get("interrupted"):
        return 128 + int(getattr(signal, summary["interrupted"]))
    return EXIT_PARTIAL if summary["notes_failed"] or summary.get("store_failures") else EXIT_OK


class _Signals:
    """The run's signal state, shared by the handler and the checks (one run per process).

    ``pending`` is the first SIGINT/SIGTERM of the run. The handler records it before anything else and
    only :func:`take_interrupt` clears it, where the run handles the stop: an :class:`Interrupted` that
    Python swallows (raised while a ``__del__`` or a generator's finaliser runs, which print "Exception
    ignored" and go on) is raised again at the next check, so a signal is never lost. ``live`` > 0
    inside :func:`interruptible` work (start-up, reading and extracting notes), where the handler
    raises at once; ``deferred`` > 0 inside :func:`deferred_interrupts` blocks, which a signal never
    cuts in two. Anywhere else (storing a batch, the run graph, the output files, the summary) a
    signal is only recorded, and the summary says the run was interrupted.
    """

    pending: int | None = None
    live = 0
    deferred = 0


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM become :class:`~kgqa.errors.Interrupted` (a KeyboardInterrupt) for this block (main thread).

    After the first signal the previous handlers are back, so a second Ctrl-C ends the process at once.
    """
    saved: dict[int, Any] = {}

    def restore() -> None:
        while saved:
            signum, handler = saved.popitem()
            signal.signal(signum, handler)

    def interrupt(signum: int, frame: object) -> None:
        restore()
        if _Signals.pending is None:
            _Signals.pending = signum
        if _Signals.live and not _Signals.deferred:
            raise Interrupted(_Signals.pending)
        with contextlib.suppress(OSError):  # no logging here: the handler may run inside a logging call
            os.write(2, f"kgqa run: {signal.Signals(signum).name}: stopping once the work in hand is written "
                        "(send it again to stop at once)\n".encode())  # fmt: skip

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            saved[signum] = signal.signal(signum, interrupt)
    _Signals.pending, _Signals.live, _Signals.deferred = None, 0, 0
    try:
        yield
    finally:
        restore()
        _Signals.pending = None


def check_interrupt() -> None:
    """A boundary (between notes, between batches): raise the recorded signal, unless in a deferred block."""
    if _Signals.pending is not None and not _Signals.deferred:
        raise Interrupted(_Signals.pending)


def interrupt_pending() -> int | None:
    """The signal recorded and not yet handled, if any."""
    return _Signals.pending


def take_interrupt(exc: BaseException | None = None) -> int | None:
    """The signal that stopped the run (recorded, else ``exc``'s), now handled: the record is cleared."""
    signum, _Signals.pending = _Signals.pending, None
    if signum is None and exc is not None:
        signum = int(getattr(exc, "signum", signal.SIGINT))
    return signum


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Work a signal stops at once (start-up, reading and extracting notes): Interrupted is raised mid-way.

    A signal recorded before the block, or one whose Interrupted was swallowed inside it, is raised at
    its start and end.
    """
    check_interrupt()
    _Signals.live += 1
    try:
        yield
    finally:
        _Signals.live -= 1
    check_interrupt()


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """A block a signal does not cut in two (a batch's load and its records): inside interruptible work,
    the interrupt is raised when the block ends."""
    _Signals.deferred += 1
    try:
        yield
    finally:
        _Signals.deferred -= 1
    if _Signals.live:
        check_interrupt()


class Progress:
    """Progress per note: a tqdm bar on a terminal, else a log line at most every ``every_s`` seconds.

    A heartbeat thread keeps the bar's clock moving and, off a terminal, logs "still on note k" when
    one note takes longer than ``every_s`` (a long note is never ``every_s`` of silence). No note text.
    """

    def __init__(self, total: int | None, enabled: bool, every_s: float = 30.0, *, tty: bool | None = None) -> None:
        self.total, self.enabled, self.every_s = total, enabled, every_s
        self.done = 0
        self.t0 = self._last = self._last_note = time.monotonic()
        self.bar = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        tty = sys.stderr.isatty() if tty is None else tty
        if enabled and tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="note", desc="kgqa run", dynamic_ncols=True)
        self._thread = threading.Thread(target=self._heartbeat, name="kgqa-progress", daemon=True)
        if enabled:
            self._thread.start()

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            now = self._last_note = time.monotonic()
            if self.bar is not None:
                self.bar.update(n)
            elif self.enabled and (now - self._last >= self.every_s or (self.total and self.done >= self.total)):
                self._log(now)

    def _log(self, now: float) -> None:
        self._last = now
        rate = self.done / max(now - self.t0, 1e-9)
        eta = f", ETA {format_seconds((self.total - self.done) / rate)}" if self.total and rate > 0 else ""
        of = f"/{self.total}" if self.total else ""
        log.info("notes %d%s done, %s notes/s%s", self.done, of, format_rate(rate), eta)

    def _heartbeat(self) -> None:
        tick = min(1.0, self.every_s)
        while not self._stop.wait(tick):
            with self._lock:
                now = time.monotonic()
                if self.bar is not None:
                    self.bar.refresh()
                elif now - self._last >= self.every_s:
                    if now - self._last_note >= self.every_s:
                        self._last = now
                        log.info("still on note %d%s, %s on it", self.done + 1, f"/{self.total}" if self.total else "",
                                 format_seconds(now - self._last_note))  # fmt: skip
                    else:
                        self._log(now)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        if self.bar is not None:
            self.bar.close()


def format_rate(rate: float) -> str:
    """Three significant figures: 0.00123, 0.5, 12.3, 1234."""
    return f"{rate:.3g}" if rate < 1000 else f"{rate:.0f}"


def format_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def config_digest(config_yaml: str) -> str:
    return hashlib.sha256(config_yaml.encode("utf-8")).hexdigest()


def ensure_pseudonym_key(cfg: RunConfig, store=None) -> str:
    """Give the RDF builder its pseudonymisation key (kgqa.rdf.keys): from the environment, else the
    key file outside the checkout; a missing key is a ConfigError unless ``rdf.create_key=true``, and
    a new key is refused while ``store`` holds note graphs (minted with an earlier key). Returns the
    key's fingerprint ("" when nothing is pseudonymised)."""
    from kgqa.rdf.keys import key_fingerprint, load_key

    key = load_key(cfg.rdf, stored_graphs=store.graphs if store is not None else None)
    if key is not None:
        os.environ[cfg.rdf.key_env] = key  # Ray actors and later builders in this process read it here
    return key_fingerprint(key)


#: the key fingerprint's entry in the run's provenance config (no "key" in its name: secret masking would hide it)
FINGERPRINT_ENTRY = "pseudonym_fingerprint"


def check_pseudonym_key(cfg: RunConfig, out_dir: Path, store, fingerprint: str, *, accept_new_key: bool) -> None:
    """The key must be the one ``out_dir`` (its run.json) and the store (its latest run graph) were made
    with: else ConfigError in one line, before the model loads — unless ``--accept-new-key``."""
    from kgqa.rdf.keys import check_key_fingerprint, key_source

    if not fingerprint:
        return
    recorded = [(_read_manifest(out_dir).get("key_fingerprint", ""), f"the run directory {out_dir}"),
                (stored_key_fingerprint(store), "the store's latest run")]  # fmt: skip
    override = f"pass {ACCEPT_NEW_KEY} to run under this key deliberately (the notes of the run directory are re-run)"
    for fp, made in recorded:
        if accept_new_key and fp and fp != fingerprint:
            log.warning("%s was made with another pseudonymisation key (fingerprint %s, now %s): going on under "
                        "the new key, as %s asks", made, fp, fingerprint, ACCEPT_NEW_KEY)  # fmt: skip
        elif not accept_new_key:
            check_key_fingerprint(fingerprint, fp, made, key_source(cfg.rdf), override)


def stored_key_fingerprint(store) -> str:
    """The key fingerprint the store's latest run recorded ("" when no run graph records one)."""
    from rdflib import PROV

    from kgqa.rdf.vocab import KGQA
    from kgqa.stores import terms

    entry = f"\n{FINGERPRINT_ENTRY}: "
    result = store.query(
        f"SELECT ?fp WHERE {{ GRAPH ?g {{ ?run a {terms.iri(KGQA.Run)} ; {terms.iri(KGQA.configYaml)} ?yaml ; "
        f"{terms.iri(PROV.startedAtTime)} ?started }} "
        f"FILTER(CONTAINS(STR(?yaml), {json.dumps(entry)})) "
        f"BIND(STRBEFORE(STRAFTER(STR(?yaml), {json.dumps(entry)}), \"\\n\") AS ?fp) }} "
        "ORDER BY DESC(?started) DESC(STR(?g)) LIMIT 1"
    )
    return str(result.rows[0][0]) if result.rows else ""


def build_pipeline(cfg: RunConfig, *, with_reader: bool = True):
    """The configured stages, wired. Imports are local so ``kgqa --help`` stays fast."""
    from kgqa.catalogue import load_catalogue
    from kgqa.linking import Linker
    from kgqa.pipeline import Pipeline
    from kgqa.qa import Reader
    from kgqa.rdf import RdfBuilder
    from kgqa.values import derive, normalise

    ensure_pseudonym_key(cfg)
    catalogue = load_catalogue(cfg.catalogue.path)
    if cfg.catalogue.concepts or cfg.catalogue.groups:
        try:
            catalogue = catalogue.select(ids=tuple(cfg.catalogue.concepts), groups=tuple(cfg.catalogue.groups))
        except CatalogueError as exc:  # an unknown id or group is the config's fault, not the catalogue's
            raise ConfigError(str(exc)) from None
    linker = Linker.from_config(cfg.linker)
    builder = RdfBuilder(cfg.rdf, catalogue)
    # the model last: everything that can fail quickly has had its chance.
    # The Ray driver needs no model of its own (actors load theirs), only the model's identity
    reader = Reader.from_config(cfg.model, cfg.reader) if with_reader else _ModelOnly(describe_model(cfg.model))
    return Pipeline(
        catalogue=catalogue,
        reader=reader,
        normalise=normalise,
        linker=linker,
        builder=builder,
        derive=derive,
        read_per_note=cfg.runner.read_per_note,
        complete_lists=cfg.linker.complete_lists,
    )


def describe_model(model_cfg) -> ModelInfo:
    """The model's identity (path, weights digest, name) without loading it."""
    from kgqa.qa.checkpoint import weights_sha256
    from kgqa.qa.reader import model_name, resolve_checkpoint

    checkpoint = resolve_checkpoint(model_cfg)
    return ModelInfo(path=str(checkpoint), sha256=weights_sha256(checkpoint), name=model_cfg.name or model_name(checkpoint))


@dataclass(frozen=True)
class _ModelOnly:
    model_info: ModelInfo

    def read(self, notes, concepts):  # pragma: no cover - never called on the driver
        raise RuntimeError("the Ray driver does not read notes")


def run_key_fingerprint(run: RunInfo) -> str:
    """The pseudonymisation key's fingerprint :func:`make_run_info` put into the run's config ("" if none)."""
    prefix = f"{FINGERPRINT_ENTRY}: "
    return next((line[len(prefix) :].strip() for line in run.config_yaml.splitlines() if line.startswith(prefix)), "")


def make_run_info(cfg: RunConfig, pipeline, config_yaml: str, key_fingerprint: str = "") -> RunInfo:
    """The run's identity and provenance; ``key_fingerprint`` goes into its config (so into the run graph)."""
    # microseconds kept: two runs in one second (a resume under a new key right after the first run) must
    # still order, since "the store's latest run" is the one with the latest prov:startedAtTime
    started = dt.datetime.now(dt.timezone.utc)
    if key_fingerprint:
        config_yaml = f"{config_yaml.rstrip()}\n{FINGERPRINT_ENTRY}: {key_fingerprint}\n"
    model: ModelInfo = pipeline.reader.model_info
    digest = config_digest(config_yaml or json.dumps(asdict(cfg), sort_keys=True, default=str))
    return RunInfo(
        run_id=cfg.run_id or started.strftime("%Y%m%dT%H%M%SZ") + "-" + digest[:8],
        started_at=started,
        kgqa_version=__version__,
        model=model,
        config_digest=digest,
        config_yaml=config_yaml,
        catalogue_digest=getattr(pipeline.catalogue, "digest", ""),
    )


@dataclass
class RunOutcome:
    """What a runner reports back to :func:`execute`."""

    notes: list[Note] = field(default_factory=list)
    errors: list[NoteError] = field(default_factory=list)
    facts: int = 0
    triples: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    #: runner-specific figures for the summary (partitions, resumed …)
    extra: dict[str, Any] = field(default_factory=dict)
    #: the note graphs, when the runner keeps them for the TriG/JSON-LD files (runner=local)
    graphs: list = field(default_factory=list)
    #: the run as the runner ended up running it (a resumed Ray run keeps its earlier id)
    run: RunInfo | None = None
    #: the signal that stopped the run early (signal.SIGINT …), if any
    interrupted: int | None = None


# ---------------------------------------------------------------------- start-up checks


def preflight(cfg: RunConfig, out_dir: Path) -> None:
    """Every check that needs no model: ConfigError naming the key (or the file) on the first failure."""
    from kgqa.notes import check_encoding, detect_format
    from kgqa.qa.backends import BACKENDS, FASTEST, select_device

    check_ranges(cfg)
    if cfg.runner.kind not in RUNNERS:
        raise ConfigError(f"runner.kind={cfg.runner.kind!r}: expected one of {', '.join(RUNNERS)}")
    fmt = detect_format(Path(cfg.notes.path)) if cfg.notes.format == "auto" else cfg.notes.format
    if not Path(cfg.notes.path).exists():
        raise ConfigError(f"notes.path={cfg.notes.path} does not exist")
    formats = ("txt", "jsonl", "brat", "parquet")
    if fmt not in formats:
        raise ConfigError(f"notes.format={cfg.notes.format!r}: expected one of auto, {', '.join(formats)}")
    check_encoding(cfg.notes.encoding)  # a codec Python knows, or auto (byte-order marks)
    precisions = (*BACKENDS, FASTEST)
    if cfg.reader.precision not in precisions:
        raise ConfigError(f"reader.precision={cfg.reader.precision!r}: expected one of {', '.join(precisions)}")
    if cfg.runner.kind == "local":
        select_device(cfg.reader.device)
    else:
        from kgqa.runners.ray_runner import import_ray

        import_ray()  # a missing `ray` extra is one line with the install command, before the store opens
    if cfg.model.path and not cfg.model.build_tiny and not Path(cfg.model.path).exists():
        raise ConfigError(f"model.path={cfg.model.path} does not exist (a local checkpoint directory)")
    check_writable(out_dir)


def check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output directory {out_dir} is not writable (hydra.run.dir / output.dir): "
                          f"{exc.strerror or exc}") from None  # fmt: skip


def open_checked_store(cfg: RunConfig):
    """The store, opened and health-checked (StoreError in one line if it is locked, unreachable or refuses)."""
    from kgqa.stores import open_store

    store = open_store(cfg.store)
    try:
        health = store.health()
    except BaseException:
        store.close()
        raise
    if not health.ok:
        store.close()
        raise StoreError(f"store {health.kind} at {health.target} is not usable: {health.detail}")
    return store


# ---------------------------------------------------------------------- the run


def execute(cfg: RunConfig, out_dir: Path, *, config_yaml: str = "", accept_new_key: bool = False) -> dict[str, Any]:
    """Run the whole chain on ``cfg.notes`` with the configured runner and return the run summary.

    A signal during start-up stops it at once (nothing is written); from the first note on, the run
    stops at the next note and the notes done are written and summarised (:class:`_Signals`). A
    pseudonymisation key other than the run directory's or the store's is refused before the model
    loads unless ``accept_new_key`` (``--accept-new-key``).
    """
    with interruptible():
        preflight(cfg, out_dir)
    t0 = time.monotonic()
    with open_checked_store(cfg) as store:
        with interruptible():
            key_fp = ensure_pseudonym_key(cfg, store)
            check_pseudonym_key(cfg, out_dir, store, key_fp, accept_new_key=accept_new_key)
            pipeline = build_pipeline(cfg) if cfg.runner.kind == "local" else build_pipeline(cfg, with_reader=False)
        # the model, catalogue and term index are long-lived: keep the cyclic GC from rescanning them per note
        gc.collect()
        gc.freeze()
        run = make_run_info(cfg, pipeline, config_yaml, key_fp)
        resume = (ResumeState.load(out_dir, run, cfg, store, pipeline, key_fp)
                  if cfg.runner.resume and cfg.runner.kind == "local" else None)  # fmt: skip
        if resume is not None:
            run = replace(run, run_id=resume.run_id)
        write_run_manifest(out_dir, run, cfg, key_fp)
        log.info("run %s: %d concepts, runner %s, store %s", run.run_id, len(pipeline.concepts), cfg.runner.kind, cfg.store.kind)
        if cfg.runner.kind == "local":
            outcome = _run_local(cfg, pipeline, run, store, out_dir, resume)
        else:
            outcome = RUNNERS[cfg.runner.kind](cfg, pipeline, run, store, out_dir)
        if key_fp:
            outcome.extra["key_fingerprint"] = key_fp
        # from here on a signal is only recorded (no check raises it): every output is written, and
        # the summary says the run was interrupted
        return _finish(cfg, out_dir, pipeline, run, outcome, store, t0)


def _finish(cfg: RunConfig, out_dir: Path, pipeline, run: RunInfo, outcome: RunOutcome, store, t0: float) -> dict[str, Any]:
    """The run graph, the output files and the summary of a finished (or interrupted) run.

    A signal that arrives while they are written is recorded in the summary (and the exit code).
    """
    run = (outcome.run or run).finished(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    run_graph = pipeline.builder.run_graph(run, outcome.notes, outcome.errors)
    run_report = store.replace_graphs([run_graph])
    store_failures = sum(1 for e in outcome.errors if e.stage == "store") + len(run_report.failed)
    outcome.triples += len(run_graph)
    from kgqa.runners.shards import canonical_nquads

    (out_dir / "run.nq").write_text(canonical_nquads([run_graph]), encoding="utf-8")
    if outcome.graphs:
        from kgqa.rdf import write_dataset

        for enabled, fmt, name in ((cfg.output.trig, "trig", "graphs.trig"), (cfg.output.jsonld, "json-ld", "graphs.jsonld")):
            if enabled:
                outcome.outputs[fmt.replace("-", "")] = str(write_dataset(outcome.graphs + [run_graph], out_dir / name, fmt))
    with (out_dir / "errors.jsonl").open("w", encoding="utf-8") as fh:
        for e in outcome.errors:
            fh.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
    if cfg.summary_query and not (outcome.interrupted or _Signals.pending):
        try:
            _print_summary_query(store, cfg.summary_query)
        except StoreError as exc:
            log.warning("summary query %s failed: %s", cfg.summary_query, exc)

    failed_ids = {e.note_id or e.source for e in outcome.errors if e.stage != "store"}
    summary = {
        "run_id": run.run_id,
        "notes": len(outcome.notes),
        "notes_failed": len(failed_ids),
        "facts": outcome.facts,
        "triples": outcome.triples,
        "store": cfg.store.kind,
        "runner": cfg.runner.kind,
        "model": run.model.name or run.model.path,
        "run_dir": str(out_dir),
        "output": outcome.outputs.get("trig") or outcome.outputs.get("nquads") or "",
        "seconds": round(time.monotonic() - t0, 2),
    }
    summary.update(outcome.extra)
    if store_failures:
        summary["store_failures"] = store_failures
        summary["load_later"] = f"kgqa store load {out_dir}"
        log.warning("%d graph(s) could not be stored; the run directory has them all: load them later with "
                    "`kgqa store load %s` (plus the same store overrides)", store_failures, out_dir)  # fmt: skip
    outcome.interrupted = outcome.interrupted or take_interrupt()
    if outcome.interrupted:
        summary["interrupted"] = signal.Signals(outcome.interrupted).name
        log.warning("interrupted by %s after %d notes; `kgqa run --resume %s` goes on where this run stopped",
                    summary["interrupted"], len(outcome.notes), out_dir)  # fmt: skip
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    if failed_ids:
        log.warning("%d notes failed or were skipped; see %s", len(failed_ids), out_dir / "errors.jsonl")
    return summary


# ---------------------------------------------------------------------- resuming (runner=local)

RUN_MANIFEST = "run.json"


def extraction_digest(cfg: RunConfig) -> str:
    """Digest of the settings that shape a note's facts and graph (reading, model, reader, catalogue, linker, RDF).

    Where the notes come from, the store, the runner's batching and progress, and the outputs are left
    out: a resumed run may change them (``--resume RUN_DIR runner.progress=false``) and still skip notes.
    """
    notes = {k: v for k, v in asdict(cfg.notes).items() if k not in ("path", "limit")}
    parts = {"notes": notes, "model": asdict(cfg.model), "reader": asdict(cfg.reader), "catalogue": asdict(cfg.catalogue),
             "linker": asdict(cfg.linker), "rdf": asdict(cfg.rdf), "seed": cfg.seed}  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def write_run_manifest(out_dir: Path, run: RunInfo, cfg: RunConfig, key_fingerprint: str = "") -> None:
    """What a later run in this directory must match to resume: extraction settings, model digest and
    the pseudonymisation key's fingerprint (kgqa.rdf.keys.key_fingerprint; never the key)."""
    manifest = {"run_id": run.run_id, "config_digest": run.config_digest, "extraction_digest": extraction_digest(cfg),
                "model_sha256": run.model.sha256, "key_fingerprint": key_fingerprint,
                "kgqa_version": run.kgqa_version}  # fmt: skip
    (out_dir / RUN_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _read_manifest(out_dir: Path) -> dict[str, Any]:
    """``out_dir``'s run.json ({} when there is none, or it is not a JSON object)."""
    try:
        manifest = json.loads((out_dir / RUN_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


@dataclass
class ResumeState:
    """Notes an earlier run in the same directory finished and stored: their records and stored text digest."""

    run_id: str
    #: note id -> (notes.jsonl line, facts.jsonl lines, sha256 of the text)
    done: dict[str, tuple[str, list[str], str]]
    #: note id -> note graph IRI
    graph_of: Callable[[str], str]

    @classmethod
    def load(cls, out_dir: Path, run: RunInfo, cfg: RunConfig, store, pipeline, key_fingerprint: str = "") -> ResumeState | None:
        manifest_path, notes_path = out_dir / RUN_MANIFEST, out_dir / "notes.jsonl"
        if not manifest_path.is_file() or not notes_path.is_file():
            return None
        manifest = _read_manifest(out_dir)
        if not manifest:
            log.warning("%s is not a JSON object: not resuming", manifest_path)
            return None
        if manifest.get("key_fingerprint", "") != key_fingerprint:
            # --accept-new-key (or a run of a kgqa that recorded no fingerprint): the earlier case IRIs are another key's
            log.warning("%s holds a run made under another pseudonymisation key: every note is run again", out_dir)
            return None
        if manifest.get("extraction_digest") != extraction_digest(cfg) or manifest.get("model_sha256") != run.model.sha256:
            log.warning("%s holds a run with other settings or another model: every note is run again", out_dir)
            return None
        records: dict[str, tuple[str, list[str], str]] = {}
        for line in notes_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                records[d["id"]] = (line, [], d.get("sha256", ""))
        facts_path = out_dir / "facts.jsonl"
        if facts_path.is_file():
            for line in facts_path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    note_id = json.loads(line).get("note_id")
                    if note_id in records:
                        records[note_id][1].append(line)
        iris = pipeline.builder.iris
        stored = _stored_digests(store, {iris.note_graph(n): n for n in records})
        done = {n: r for n, r in records.items() if r[2] and stored.get(n) == r[2]}
        log.info("resuming run %s: %d of %d earlier notes are stored and are skipped", manifest["run_id"],
                 len(done), len(records))  # fmt: skip
        return cls(run_id=str(manifest["run_id"]), done=done, graph_of=lambda n: str(iris.note_graph(n)))


def _stored_digests(store, graph_to_note: dict, chunk: int = 200) -> dict[str, str]:
    """note id -> the text digest its note graph holds in the store (notes without a stored graph left out)."""
    from kgqa.rdf.vocab import KGQA
    from kgqa.stores import terms

    out: dict[str, str] = {}
    items = [(str(g), n) for g, n in graph_to_note.items()]
    for i in range(0, len(items), chunk):
        part = dict(items[i : i + chunk])
        values = " ".join(terms.iri(g) for g in part)
        result = store.query(
            f"SELECT ?g ?sha WHERE {{ VALUES ?g {{ {values} }} "
            f"GRAPH ?g {{ ?note a {terms.iri(KGQA.Note)} ; {terms.iri(KGQA.sha256)} ?sha }} }}"
        )
        for g, sha in result.rows:
            out[part[str(g)]] = str(sha)
    return out


def _stored_graph(store, iri: str):
    import rdflib

    from kgqa.stores import terms

    result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {terms.iri(iri)} {{ ?s ?p ?o }} }}")
    graph = rdflib.Graph(identifier=rdflib.URIRef(iri))
    for triple in result.graph or ():
        graph.add(triple)
    return graph


def _run_local(cfg: RunConfig, pipeline, run: RunInfo, store, out_dir: Path, resume: ResumeState | None = None) -> RunOutcome:
    """Notes in batches through the pipeline in this process; each batch loaded as soon as it is built.

    A note whose graph the store refuses keeps its records and graph in the run directory (a
    ``store`` error says so); SIGINT/SIGTERM stop the loop and the notes done are reported.
    """
    from kgqa.notes import log_reason
    from kgqa.records_io import fact_to_dict, note_to_dict

    outcome = RunOutcome()
    graphs = []
    progress = Progress(_count_notes(cfg) if cfg.runner.progress else None, cfg.runner.progress, cfg.runner.progress_every_s)
    batch: list[Note] = []
    resumed = 0
    with (out_dir / "facts.jsonl").open("w", encoding="utf-8") as facts_fh, (out_dir / "notes.jsonl").open(
        "w", encoding="utf-8"
    ) as notes_fh:

        def note_done(_note: Note) -> None:
            progress.update(1)
            check_interrupt()  # a note boundary: a signal whose Interrupted was swallowed stops here

        def flush() -> None:
            if not batch:
                return
            result = pipeline.process(batch, run, on_note=note_done)
            batch.clear()
            with deferred_interrupts():  # stored and written, or neither: a signal waits for the end of the batch
                outcome.errors.extend(result.errors)
                report = store.replace_graphs([r.graph for r in result.results])
                failed = _failed_graphs(report)
                for r in result.results:
                    if str(r.graph.identifier) in failed:
                        outcome.errors.append(
                            NoteError(source=r.note.source, note_id=r.note.id, stage="store", reason=failed[str(r.graph.identifier)])
                        )
                    # stored or not, the note's records and graph are the run's: `kgqa store load` can retry them
                    outcome.notes.append(r.note)
                    graphs.append(r.graph)
                    outcome.facts += len(r.facts)
                    outcome.triples += len(r.graph)
                    notes_fh.write(json.dumps(note_to_dict(r.note), ensure_ascii=False) + "\n")
                    for fact in r.facts:
                        facts_fh.write(json.dumps(fact_to_dict(fact), ensure_ascii=False, sort_keys=True) + "\n")
                notes_fh.flush()
                facts_fh.flush()

        def resume_note(item: Note) -> None:
            note_line, fact_lines, _ = resume.done[item.id]
            graph = _stored_graph(store, resume.graph_of(item.id))
            notes_fh.write(note_line + "\n")
            facts_fh.writelines(line + "\n" for line in fact_lines)
            outcome.notes.append(item)
            graphs.append(graph)
            outcome.facts += len(fact_lines)
            outcome.triples += len(graph)
            progress.update(1)

        try:
            with interruptible():
                seen = 0
                for item in _iter_input(cfg):
                    check_interrupt()  # between notes and batches
                    if isinstance(item, NoteError):
                        log.warning("skipped: %s", log_reason(item, cfg.debug_phi))  # file names may name patients
                        outcome.errors.append(item)
                        continue
                    if cfg.notes.limit and seen >= cfg.notes.limit:
                        break
                    seen += 1
                    if resume is not None and resume.done.get(item.id, ("", [], ""))[2] == item.sha256:
                        with deferred_interrupts():
                            resume_note(item)
                            resumed += 1
                        continue
                    batch.append(item)
                    if len(batch) >= cfg.runner.notes_per_batch:
                        flush()
                flush()
        except KeyboardInterrupt as exc:
            # the note in hand is dropped (its graph never reached the store); everything before it is reported
            outcome.interrupted = take_interrupt(exc)
        finally:
            progress.close()

    if cfg.output.nquads:
        from kgqa.runners.shards import canonical_nquads

        path = out_dir / "graphs.nq"
        path.write_text(canonical_nquads(graphs), encoding="utf-8")
        outcome.outputs["nquads"] = str(path)
    outcome.graphs = graphs
    outcome.extra["notes_resumed"] = resumed
    # (note, concept) pairs not asked: the checkpoint's calibration declares those concepts unanswerable
    outcome.extra["pairs_not_asked"] = getattr(pipeline.reader, "skipped_pairs", 0)
    return outcome


def _iter_input(cfg: RunConfig) -> Iterator[Note | NoteError]:
    from kgqa.notes import iter_notes

    return iter_notes(
        cfg.notes.path,
        fmt=cfg.notes.format,
        default_lang=cfg.notes.default_lang,
        encoding=cfg.notes.encoding,
        max_bytes=cfg.notes.max_bytes,
    )


def _count_notes(cfg: RunConfig) -> int | None:
    """How many notes the run will read (for the ETA), from metadata only; None when it cannot tell cheaply."""
    from kgqa.runners.partitions import count_notes

    try:
        total = count_notes(cfg.notes.path, cfg.notes.format)
    except Exception:  # noqa: BLE001 - the count only feeds the progress line
        return None
    return min(total, cfg.notes.limit) if cfg.notes.limit else total


def _run_ray(cfg: RunConfig, pipeline, run: RunInfo, store, out_dir: Path) -> RunOutcome:
    """Shards on Ray, then every complete shard loaded into the store through the store interface."""
    from kgqa.runners.partitions import partition_name
    from kgqa.runners.ray_runner import run_ray
    from kgqa.runners.shards import (
        duplicates_across_partitions,
        iter_shard_graphs,
        merge_shards,
        shard_paths,
        skipped_graphs,
    )

    result = run_ray(cfg, out_dir, run)
    outcome = RunOutcome(run=result["run"], interrupted=result["interrupted"])
    outcome.facts = result["facts"]
    shard_dir = Path(result["shard_dir"])
    # a note id a previous partition has: left out, as the local runner leaves out a repeated id
    duplicates = duplicates_across_partitions(result["manifests"])
    skip = skipped_graphs(duplicates)
    for manifest in result["manifests"]:
        outcome.errors.extend(NoteError(**e) for e in manifest.errors)
        name = partition_name(manifest.partition)
        nq, _, _ = shard_paths(shard_dir, name)
        report = store.replace_graphs(list(iter_shard_graphs(nq, skip.get(name, ()))))
        for graph_iri, reason in _failed_graphs(report).items():
            outcome.errors.append(NoteError(source=str(nq), stage="store", reason=f"{graph_iri}: {reason}"))
        dropped = [d for d in duplicates if d.partition == manifest.partition]
        outcome.errors.extend(NoteError(source=name, note_id=d.note_id, stage="read", reason=d.reason) for d in dropped)
        outcome.triples += manifest.triples - sum(d.triples for d in dropped)
        # the run graph only needs ids and sources of the notes; their text stays in the shards' inputs
        kept = list(manifest.notes)
        for d in dropped:  # the repeated note's entry, not the first note's (their graph IRIs may agree)
            kept = [n for n in kept if not (n["id"] == d.note_id and n["graph"] == d.graph)]
        outcome.notes.extend(_NoteRef(n["id"], n["sha256"]) for n in kept)  # type: ignore[arg-type]
    for index, reason in result["partitions_failed"].items():
        outcome.errors.append(NoteError(source=partition_name(index), stage="partition", reason=reason))
    if cfg.output.nquads:
        path = out_dir / "graphs.nq"
        merge_shards(shard_dir, result["names"], path, skip)
        outcome.outputs["nquads"] = str(path)
    outcome.extra.update(
        shard_dir=str(shard_dir),
        partitions=result["partitions"],
        partitions_resumed=result["partitions_resumed"],
        partitions_failed=len(result["partitions_failed"]),
        notes_resumed=result["notes_resumed"],
    )
    if result["notes_checkpointed"]:
        outcome.extra["notes_checkpointed"] = result["notes_checkpointed"]
    return outcome


@dataclass(frozen=True)
class _NoteRef:
    """What the run graph records of a note the driver never read itself (runner=ray)."""

    id: str
    sha256: str
    source: str = ""


def _failed_graphs(report) -> dict[str, str]:
    failed = getattr(report, "failed", None) or {}
    return {str(iri): str(reason) for iri, reason in failed.items()}


RUNNERS = {"local": _run_local, "ray": _run_ray}


def _print_summary_query(store, name: str) -> None:
    from kgqa.queries import format_result, load_query

    query = load_query(name)
    result = store.query(query.text)
    print(f"\n{name}: {query.purpose}" if getattr(query, "purpose", "") else f"\n{name}:")
    print(format_result(result, "table"))
