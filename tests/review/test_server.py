"""The review app through Starlette's test client: decisions round-trip to the store and back,
CSRF and access control, headers, escaping, what reaches the logs, re-extraction."""

from __future__ import annotations

import logging
import re

import pytest
import review_fixtures as rf
from conftest import csrf_of, decide, keys_of, make_client

from kgqa.review.decisions import ReviewError
from kgqa.review.server import ReviewSettings, check_bind, is_loopback
from kgqa.review.store import ReviewStore

DECISIONS_IN_STORE = """
PREFIX kgqar: <https://w3id.org/kgqa/review#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?g ?d ?fact ?action ?reason ?who ?invalidated WHERE {
  GRAPH ?g { ?d a kgqar:Decision ; kgqar:fact ?fact ; kgqar:action ?action ;
                prov:wasAssociatedWith/kgqar:reviewerId ?who .
             OPTIONAL { ?d kgqar:reason ?reason }
             OPTIONAL { ?fact prov:wasInvalidatedBy ?d . BIND(true AS ?invalidated) } }
}"""
KGQAR = "https://w3id.org/kgqa/review#"


def stored_decisions(store) -> list[dict]:
    return store.query(DECISIONS_IN_STORE).python()


def test_accept_reject_correct_round_trip_to_the_store_and_back(client, store, review, cat, notes):
    token = csrf_of(client)
    keys = keys_of(client)
    note = notes[0]
    assert decide(client, token, fact=keys["age"], action="accept").json()["ok"]
    assert decide(client, token, fact=keys["nihss_score"], action="reject", reason="historical").status_code == 200
    start = note.text.index("185")
    r = decide(client, token, fact=keys["systolic_pressure"], action="correct", start=start, end=start + 3)
    assert r.status_code == 200, r.text

    # in the store, in the note's review graph, as PROV
    rows = {row["action"].rpartition("#")[2]: row for row in stored_decisions(store)}
    assert set(rows) == {"Accept", "Reject", "Correct"}
    assert all(row["g"] == "https://kgqa.example.org/id/graph/review/note-en" for row in rows.values())
    assert all(row["who"] == "rev-1" for row in rows.values())
    assert rows["Reject"]["reason"] == KGQAR + "Historical" and rows["Reject"]["invalidated"]
    assert rows["Correct"]["invalidated"] and not rows["Accept"]["invalidated"]
    facts = {f.fact.concept_id: f.iri for f in review.facts(review.notes()[0])
             if f.generator.startswith("https://kgqa.example.org/id/run/")}
    assert rows["Accept"]["fact"] == facts["age"] and rows["Reject"]["fact"] == facts["nihss_score"]

    # back: a fresh app over the same store (a reload, a restart) shows the three decisions
    with make_client(ReviewStore(store, notes, tuple(cat)), cat, reviewer="rev-2") as again:
        state = {f["concept"]: f for f in again.get("/api/notes/0/state").json()["facts"]}
        assert state["age"]["state"] == "accept" and state["age"]["reviewer"] == "rev-1"
        assert state["nihss_score"]["state"] == "reject" and state["nihss_score"]["reason"] == "historical"
        assert state["systolic_pressure"]["correction"] == {"start": start, "end": start + 3, "value": "185 mmHg"}
        assert state["thrombolysis"]["state"] == "pending"
        page = again.get("/notes/0").text
        assert "accepted" in page and "rejected: historical" in page and "corrected → 185 mmHg" in page
        assert re.search(r'id="note-progress">3 / 6<', page)
        index = again.get("/").text
        assert re.search(r'id="run-decided">3 / 9<', index)


def test_a_typed_value_is_read_by_the_values_stage(client, store, review):
    token = csrf_of(client)
    keys = keys_of(client)
    r = decide(client, token, fact=keys["nihss_score"], action="correct", value="fourteen?")
    assert r.status_code == 400 and "values stage" in r.json()["error"]
    r = decide(client, token, fact=keys["nihss_score"], action="correct", value="55")
    assert r.status_code == 400 and "42" in r.json()["error"]  # out of NIHSS's range: refused, with the reason
    assert stored_decisions(store) == []
    r = decide(client, token, fact=keys["nihss_score"], action="correct", value="14")
    assert r.status_code == 200
    state = {f["concept"]: f for f in client.get("/api/notes/0/state").json()["facts"]}
    assert state["nihss_score"]["correction"]["value"] == "14"
    # the typed value keeps the original evidence span
    assert client.get("/notes/0").text.count("corrected → 14 <q>NIHSS 12</q>") == 1


@pytest.mark.parametrize("body,status,message", [
    ({"action": "reject"}, 400, "needs a reason"),
    ({"action": "reject", "reason": "because"}, 400, "needs a reason"),
    ({"action": "delete"}, 400, "action must be one of"),
    ({"action": "correct"}, 400, "selected span"),
    ({"action": "correct", "start": 5, "end": 2}, 400, "not inside the note"),
    ({"action": "correct", "start": "5", "end": 9}, 400, "whole numbers"),
])
def test_bad_decisions_are_refused_and_nothing_is_written(client, store, body, status, message):
    token = csrf_of(client)
    r = decide(client, token, fact=keys_of(client)["age"], **body)
    assert r.status_code == status and message in r.json()["error"]
    assert stored_decisions(store) == []


def test_an_unknown_fact_is_a_conflict(client, store):
    r = decide(client, csrf_of(client), fact="k" + "0" * 20, action="accept")
    assert r.status_code == 409 and "reload" in r.json()["error"]
    assert decide(client, csrf_of(client), index=7, fact="x", action="accept").status_code == 404


def test_csrf_is_required_on_every_state_changing_request(client, store):
    key = keys_of(client)["age"]
    url = "/api/notes/0/decisions"
    assert client.post(url, json={"fact": key, "action": "accept"}).status_code == 403
    assert client.post(url, json={"fact": key, "action": "accept"}, headers={"X-CSRF-Token": "guess"}).status_code == 403
    # a form post from another site can carry neither the header nor a JSON body
    assert client.post(url, data={"fact": key, "action": "accept"}).status_code == 403
    token = csrf_of(client)
    cross = client.post(url, json={"fact": key, "action": "accept"},
                        headers={"X-CSRF-Token": token, "Origin": "http://evil.example"})
    assert cross.status_code == 403
    form = client.post(url, content=b"fact=x&action=accept", headers={
        "X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert stored_decisions(store) == []
    # with the token (and the page's own origin) it goes through
    ok = client.post(url, json={"fact": key, "action": "accept"},
                     headers={"X-CSRF-Token": token, "Origin": "http://127.0.0.1"})
    assert ok.status_code == 200 and len(stored_decisions(store)) == 1


def test_pages_carry_the_reports_csp_and_escape_note_text(review, cat, store, notes, extraction):
    hostile = rf.Note("note-x", 'NIHSS 9 <script>window.__pwned=1</script> "x" & <img src=x onerror=alert(1)>',
                      "en", patient_id="P-003")
    ex = rf.extract(cat, [hostile], answers={"note-x": [("nihss_score", "NIHSS 9", 0.9)]},
                    run=rf.run("run-x"))
    assert store.replace_graphs(ex.graphs).ok
    with make_client(ReviewStore(store, [*notes, hostile], tuple(cat)), cat) as c:
        page = c.get("/notes/2")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
        assert "<script>window.__pwned" not in page.text and "&lt;script&gt;window.__pwned" in page.text
        assert "<img src=x" not in page.text
        assert page.text.count("<script>") == 1  # ours, allowed by its hash
        # the script the CSP allows is exactly the one on the page
        import base64
        import hashlib

        script = re.search(r"<script>(.*?)</script>", page.text, re.DOTALL).group(1)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_filters_by_language_group_and_confidence(client):
    index = client.get("/?lang=es").text
    assert "note-es" in index and "note-en" not in index
    page = client.get("/notes/0?group=thrombolysis").text
    assert 'data-concept="thrombolysis"' in page and 'data-concept="age"' not in page
    low = client.get("/notes/0?max_confidence=0.5").text
    shown = set(re.findall(r'<li class="fact[^"]*"[^>]*data-concept="(\w+)"', low))
    assert shown == {"risk_hypertension", "discharge_mrs"}  # confidences 0.41 and 0.35


def test_no_note_text_or_identifiers_in_the_logs(client, caplog, notes):
    caplog.set_level(logging.DEBUG)
    token = csrf_of(client)
    keys = keys_of(client)
    decide(client, token, fact=keys["age"], action="accept")
    decide(client, token, fact=keys["thrombolysis"], action="correct", value="no")
    decide(client, token, fact=keys["nihss_score"], action="reject", reason="wrong_span")
    client.post("/api/notes/0/decisions", json={"fact": keys["age"], "action": "accept"})  # refused: logged
    text = caplog.text
    assert "accept" in text and "CSRF" in text  # something was logged …
    for secret in ("note-en", "P-001", "Man, 71", "NIHSS 12", "Alteplase", "note/note-en"):
        assert secret not in text  # … but no note id, patient id or note text


def test_loopback_only_unless_a_token_is_given():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")
    with pytest.raises(ReviewError, match="needs a token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(ReviewError, match="needs a token"):
        ReviewSettings(reviewer="rev-1", host="192.168.1.20")
    with pytest.raises(ReviewError, match="16 characters"):
        ReviewSettings(reviewer="rev-1", host="0.0.0.0", token="short")
    ReviewSettings(reviewer="rev-1", host="0.0.0.0", token="a-long-enough-token")


@pytest.mark.parametrize("reviewer", ["", "Jane Doe", "x" * 65, "<b>"])
def test_a_reviewer_is_an_id_not_a_name(reviewer):
    with pytest.raises(ReviewError, match="reviewer id"):
        ReviewSettings(reviewer=reviewer)


def test_with_a_token_every_request_must_present_it(review, cat, store):
    token = "a-long-enough-token-0123"
    with make_client(review, cat, host="0.0.0.0", token=token) as c:
        assert c.get("/api/notes/0/state").status_code == 401
        r = c.get("/notes/0", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert c.post("/login", content=b"token=wrong", headers={
            "Content-Type": "application/x-www-form-urlencoded"}).status_code == 403
        assert c.get("/api/notes/0/state", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        r = c.post("/login", content=f"token={token}".encode(), follow_redirects=False,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/notes/0").status_code == 200  # the cookie now
        csrf = csrf_of(c)
        assert decide(c, csrf, fact=keys_of(c)["age"], action="accept").status_code == 200


def test_a_foreign_host_header_is_refused(client):
    # DNS rebinding: a page on evil.example resolved to 127.0.0.1 must not read the notes
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_reextraction_keeps_decisions_and_flags_new_facts(client, store, cat, notes, review):
    token = csrf_of(client)
    keys = keys_of(client)
    decide(client, token, fact=keys["age"], action="accept")
    decide(client, token, fact=keys["discharge_mrs"], action="reject", reason="wrong_span")
    # a later run: the same spans for most concepts, mRS found elsewhere, a new concept answered
    answers = {"note-en": [a for a in rf.ANSWERS["note-en"] if a[0] != "discharge_mrs"]
               + [("discharge_mrs", "mRS at discharge 2", 0.6), ("thrombectomy", "thrombolysis", 0.2)],
               "note-es": rf.ANSWERS["note-es"]}
    rerun = rf.extract(cat, notes, answers=answers, run=rf.run("run-r2"))
    report = store.replace_graphs(rerun.graphs)
    assert report.ok and "https://kgqa.example.org/id/graph/note/note-en" in report.replaced
    state = {f["concept"]: f for f in client.get("/api/notes/0/state").json()["facts"]}
    assert state["age"]["state"] == "accept"  # the same fact IRI: still accepted
    assert state["discharge_mrs"]["state"] == "pending" and state["discharge_mrs"]["new_since_review"]
    assert state["thrombectomy"]["new_since_review"] and not state["thrombolysis"]["new_since_review"]
    assert client.get("/api/notes/0/state").json()["orphans"] == 1  # the rejected old mRS span
    from kgqa.queries import run_query

    progress = {r["note"].rpartition("/")[2]: r for r in run_query(store, "review_progress").python()}
    assert progress["note-en"]["new_since_review"] == 2 and progress["note-en"]["accepted"] == 1
    assert progress["note-es"]["new_since_review"] == 0  # never reviewed: nothing is "new"
    page = client.get("/notes/0").text
    assert page.count("new since review</span>") == 2


def test_a_network_address_serves_the_hosts_it_is_told(review, cat):
    token = "a-long-enough-token-0123"
    auth = {"Authorization": f"Bearer {token}"}
    with make_client(review, cat, host="0.0.0.0", token=token, allowed_hosts=("ward-pc.local",)) as c:
        assert c.get("/api/notes/0/state", headers={**auth, "Host": "ward-pc.local:8765"}).status_code == 200
        assert c.get("/api/notes/0/state", headers={**auth, "Host": "other.example"}).status_code == 400
