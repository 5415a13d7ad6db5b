"""``kgqa review``'s web app (Starlette + Jinja2): notes with their evidence, one decision per click.

Security, in one place:

* **CSRF** — every state-changing request (POST) must carry the page's token in ``X-CSRF-Token``
  (compared in constant time) and a JSON body; a form on another site can send neither. An
  ``Origin`` header, when sent, must be this server's.
* **Who may connect** — bound to 127.0.0.1 by default; another address is refused unless a token
  is configured, and then every request must present it (``Authorization: Bearer``, or the cookie
  that ``/login`` sets). The ``Host`` header must name the bound address (no DNS rebinding).
* **What the page may do** — the report's CSP (no external loads, only our own script, by hash),
  plus ``connect-src 'self'``, ``form-action 'self'``, ``frame-ancestors 'none'``.
* **Logs** — notes are named by their position in the run, facts by an opaque key; note text,
  note ids and patient ids never reach a log line.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import groupby
from typing import Any
from urllib.parse import parse_qs

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kgqa.errors import KgqaError
from kgqa.report.config import ReportConfig
from kgqa.report.model import concept_label
from kgqa.report.render import PALETTE, note_text
from kgqa.review.correct import corrected_fact
from kgqa.review.decisions import (
    Decision,
    ReviewError,
    ReviewIris,
    check_reviewer,
    correction_graph,
    decision_graph,
)
from kgqa.review.store import ReviewStore, StoredNote
from kgqa.review.view import ReviewNote, build_review_note
from kgqa.review.vocab import ACTIONS, REASONS
from kgqa.types import Concept

log = logging.getLogger("kgqa.review")

LOOPBACK_NAMES = ("localhost",)
TOKEN_COOKIE = "kgqa_review_token"
#: largest JSON body a decision may have (a decision is a few fields)
MAX_BODY = 8_192


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback address without a token (anyone on the network could read the notes)."""
    if not is_loopback(host) and not token:
        raise ReviewError(
            f"--host {host}: not a loopback address; kgqa review serves clinical notes, so listening on "
            "the network needs a token (--token or KGQA_REVIEW_TOKEN) that every request must present"
        )


@dataclass(frozen=True)
class ReviewSettings:
    reviewer: str
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    low_confidence: float = 0.5
    title: str = "kgqa review"
    #: extra Host header values to accept (e.g. a name the machine is reached by)
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_reviewer(self.reviewer)
        check_bind(self.host, self.token)
        if self.token is not None and len(self.token) < 16:
            raise ReviewError("--token / KGQA_REVIEW_TOKEN: use at least 16 characters")


def _inline(name: str) -> tuple[Markup, str]:
    source = resources.files("kgqa.review").joinpath(f"templates/{name}").read_text(encoding="utf-8")
    if "</script" in source.lower():
        raise ValueError(f"{name} must not contain '</script'")
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    return Markup(source), f"sha256-{digest}"


def _environment() -> Environment:
    env = Environment(
        # the review's own templates first, then the report's (its CSS and fact-card macros)
        loader=ChoiceLoader([PackageLoader("kgqa.review", "templates"), PackageLoader("kgqa.report", "templates")]),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["note_text"] = note_text
    return env


@dataclass
class _State:
    settings: ReviewSettings
    review: ReviewStore
    concepts: tuple[Concept, ...]
    catalogue: Any
    clock: Callable[[], dt.datetime]
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: one writer at a time within this process (the store keeps writes from other processes apart)
    lock: threading.Lock = field(default_factory=threading.Lock)
    notes_cache: list[StoredNote] | None = None

    def notes(self, refresh: bool = False) -> list[StoredNote]:
        if self.notes_cache is None or refresh:
            self.notes_cache = self.review.notes()
        return self.notes_cache


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def create_app(
    review: ReviewStore,
    catalogue: Sequence[Concept],
    settings: ReviewSettings,
    *,
    clock: Callable[[], dt.datetime] = _utcnow,
) -> Starlette:
    """The review web app over ``review`` (facts and decisions in the store)."""
    state = _State(settings, review, tuple(catalogue), catalogue, clock)
    env = _environment()
    script, script_hash = _inline("review.js")
    csp = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
           f"script-src '{script_hash}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
           "base-uri 'none'")
    cfg = ReportConfig(low_confidence=settings.low_confidence, title=settings.title, figure=False)
    groups = list(dict.fromkeys(c.group for c in state.concepts))
    labels = {c.id: concept_label(c) for c in state.concepts}
    group_of = {c.id: c.group for c in state.concepts}

    def page(template: str, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(
            palette=PALETTE, script=script, script_hash=script_hash, title=settings.title, csrf=state.csrf,
            reviewer=settings.reviewer, reasons=REASONS, groups=groups, **context)
        return HTMLResponse(html)

    def note_at(index: int) -> StoredNote | None:
        notes = state.notes()
        return notes[index] if 0 <= index < len(notes) else None

    def review_note(index: int, stored: StoredNote) -> ReviewNote:
        return build_review_note(index, stored, review.facts(stored), review.decisions(stored), review.seen(stored),
                                 state.concepts, cfg)

    # ------------------------------------------------------------------ pages

    def index(request: Request) -> Response:
        from kgqa.queries import run_query

        notes = state.notes(refresh=True)
        progress = {str(r["note"]): r for r in run_query(review.store, "review_progress").python()}
        lang = request.query_params.get("lang", "")
        pending_only = request.query_params.get("pending") == "1"
        rows = []
        for i, stored in enumerate(notes):
            p = progress.get(stored.iri, {})
            row = {"index": i, "note": stored.note, "facts": int(p.get("facts") or 0),
                   **{k: int(p.get(k) or 0) for k in ("decided", "accepted", "rejected", "corrected", "pending",
                                                       "new_since_review")}}
            if (lang and stored.note.lang != lang) or (pending_only and not row["pending"]):
                continue
            rows.append(row)
        totals = {k: sum(int(progress.get(n.iri, {}).get(k) or 0) for n in notes)
                  for k in ("facts", "decided", "accepted", "rejected", "corrected", "pending", "new_since_review")}
        languages = sorted({n.note.lang for n in notes})
        return page("review_index.html.jinja", rows=rows, totals=totals, languages=languages, lang=lang,
                    pending_only=pending_only, note_count=len(notes))

    def note_page(request: Request) -> Response:
        index_ = request.path_params["index"]
        stored = note_at(index_)
        if stored is None:
            return HTMLResponse("no such note", status_code=404)
        try:
            rn = review_note(index_, stored)
        except KgqaError as exc:
            log.warning("note #%d cannot be shown: %s", index_, exc)
            return HTMLResponse("this note's facts in the store do not match its text (another version of the "
                                "note?); see the server log", status_code=409)
        group = request.query_params.get("group", "")
        try:
            max_conf = float(request.query_params.get("max_confidence", "") or 1.0)
        except ValueError:
            max_conf = 1.0
        shown = [f for f in rn.facts
                 if (not group or group_of.get(f.view.concept_id) == group)
                 and (max_conf >= 1.0 or (f.view.confidence is not None and f.view.confidence < max_conf))]
        row_groups = [(g, list(rows)) for g, rows in groupby(shown, key=lambda f: f.view.group)]
        return page("review_note.html.jinja", rn=rn, view=rn.view, facts=rn.view.facts_by_key, shown=shown,
                    row_groups=row_groups, concept_labels=labels, group=group,
                    max_confidence=("" if max_conf >= 1.0 else max_conf), note_count=len(state.notes()),
                    group_titles={})

    # ------------------------------------------------------------------ decisions

    async def decide(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "decisions are sent as JSON"}, status_code=415)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return JSONResponse({"error": "not a JSON object"}, status_code=400)
        return await run_in_threadpool(_decide, request.path_params["index"], data)

    def _decide(index_: int, data: dict) -> Response:
        stored = note_at(index_)
        if stored is None:
            return JSONResponse({"error": "no such note"}, status_code=404)
        action = data.get("action")
        if action not in ACTIONS:
            return JSONResponse({"error": f"action must be one of {', '.join(ACTIONS)}"}, status_code=400)
        reason = data.get("reason") if action == "reject" else None
        if action == "reject" and reason not in REASONS:
            return JSONResponse({"error": f"a rejection needs a reason: one of {', '.join(REASONS)}"},
                                status_code=400)
        with state.lock:
            rn = review_note(index_, stored)
            target = next((f for f in rn.facts if f.key == data.get("fact")), None)
            if target is None:
                return JSONResponse({"error": "no such fact in this note now (was it extracted again?) — reload"},
                                    status_code=409)
            decision_iri = str(ReviewIris(stored.iri).decision())
            correction = None
            correction_iri = None
            if action == "correct":
                concept = next((c for c in state.concepts if c.id == target.fact.concept_id), None)
                if concept is None:
                    return JSONResponse({"error": "the fact's concept is not in the catalogue"}, status_code=400)
                try:
                    start, end = _int_or_none(data.get("start")), _int_or_none(data.get("end"))
                    typed = data.get("value")
                    if typed is not None and not isinstance(typed, str):
                        raise ReviewError("value must be text")
                    fixed = corrected_fact(stored.note, concept, target.fact, start=start, end=end, typed=typed)
                    correction_iri = f"{decision_iri}/fact"
                    correction = correction_graph(
                        fixed, stored.note, state.catalogue, corrected_iri=correction_iri,
                        original_iri=target.iri, note_iri=stored.iri, case_iri=stored.case_iri,
                        decision_iri=decision_iri)
                except ReviewError as exc:
                    return JSONResponse({"error": str(exc)}, status_code=400)
            decision = Decision(decision_iri, target.iri, stored.iri, action, settings.reviewer, state.clock(),
                                reason=reason, correction_iri=correction_iri)
            graph = decision_graph(decision, seen_facts=[f.iri for f in rn.facts], correction=correction)
            review.record(graph)
        log.info("note #%d: %s %s by %s", index_, action, target.key, settings.reviewer)
        after = review_note(index_, stored)
        return JSONResponse({"ok": True, "decision": {"action": action, "reason": reason, "fact": target.key,
                                                      "at": decision.at.isoformat()},
                             "progress": {"decided": after.decided, "facts": len(after.facts)}})

    def note_state(request: Request) -> Response:
        index_ = request.path_params["index"]
        stored = note_at(index_)
        if stored is None:
            return JSONResponse({"error": "no such note"}, status_code=404)
        rn = review_note(index_, stored)
        return JSONResponse({"facts": [
            {"key": f.key, "concept": f.view.concept_id, "state": f.state,
             "reason": f.decision.reason if f.decision else None,
             "reviewer": f.decision.reviewer if f.decision else None,
             "decisions": len(f.history), "new_since_review": f.new_since_review,
             "correction": ({"start": f.correction.answer.start if f.correction.answer else None,
                             "end": f.correction.answer.end if f.correction.answer else None,
                             "value": f.correction_text} if f.correction is not None else None)}
            for f in rn.facts], "decided": rn.decided, "orphans": len(rn.orphans)})

    # ------------------------------------------------------------------ access token

    def login(request: Request) -> Response:
        return page("review_login.html.jinja", failed=False)

    async def login_post(request: Request) -> Response:
        form = parse_qs((await request.body())[:MAX_BODY].decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0]
        if settings.token and hmac.compare_digest(given.encode(), settings.token.encode()):
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
            return response
        log.warning("login with a wrong token refused")
        response = page("review_login.html.jinja", failed=True)
        response.status_code = 403
        return response

    routes = [
        Route("/", index),
        Route("/notes/{index:int}", note_page),
        Route("/api/notes/{index:int}/state", note_state),
        Route("/api/notes/{index:int}/decisions", decide, methods=["POST"]),
        Route("/login", login),
        Route("/login", login_post, methods=["POST"]),
    ]
    async def guard(request: Request, call_next):
        path = request.url.path
        if settings.token and path != "/login":
            presented = request.cookies.get(TOKEN_COOKIE, "")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                presented = auth[7:].strip()
            if not hmac.compare_digest(presented.encode(), settings.token.encode()):
                if request.method == "GET" and not path.startswith("/api/"):
                    return RedirectResponse("/login", status_code=303)
                return JSONResponse({"error": "token required"}, status_code=401)
        if request.method not in ("GET", "HEAD") and path != "/login":
            origin = request.headers.get("origin")
            if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host", ""):
                log.warning("%s %s refused: cross-origin request", request.method, path)
                return JSONResponse({"error": "cross-origin request refused"}, status_code=403)
            given = request.headers.get("x-csrf-token", "")
            if not hmac.compare_digest(given.encode(), state.csrf.encode()):
                log.warning("%s %s refused: missing or wrong CSRF token", request.method, path)
                return JSONResponse({"error": "CSRF token missing or wrong; reload the page"}, status_code=403)
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    hosts = ["127.0.0.1", "localhost", "[::1]", "::1", settings.host, *settings.allowed_hosts]
    app = Starlette(routes=routes, middleware=[
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
        Middleware(BaseHTTPMiddleware, dispatch=guard),
    ])
    app.state.review = state
    return app


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReviewError("start and end are whole numbers (code-point offsets into the note)")
    return value
