/* kgqa review: keyboard and buttons for decisions. Nothing here builds HTML from data: the server
   renders (and escapes) every page; after a decision the page is simply loaded again. */
(function () {
  "use strict";
  var list = document.getElementById("review-facts");
  var text = document.getElementById("note-text");
  if (!list || !text) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById("status");
  var noteIndex = list.dataset.noteIndex;
  var rows = Array.prototype.slice.call(list.querySelectorAll("li.fact"));
  var current = -1;
  var choosing = false;

  function say(message, error) {
    status.textContent = message;
    status.classList.toggle("error", !!error);
  }

  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, j) { r.classList.toggle("current", j === current); });
    var row = rows[current];
    row.scrollIntoView({ block: "nearest" });
    text.querySelectorAll(".seg.active").forEach(function (s) { s.classList.remove("active"); });
    var view = row.dataset.view;
    var first = null;
    text.querySelectorAll(".seg.hl").forEach(function (s) {
      if (s.dataset.facts.split(" ").indexOf(view) >= 0) { s.classList.add("active"); first = first || s; }
    });
    if (first) first.scrollIntoView({ block: "nearest" });
    setChoosing(false);
  }

  function setChoosing(on) {
    choosing = on;
    rows.forEach(function (r, j) { r.classList.toggle("choosing", on && j === current); });
    if (on) say("reason: 1 wrong span · 2 wrong value · 3 not this patient/event · 4 negated · 5 historical (Esc cancels)");
  }

  /* Code-point offset of a DOM position within the note: the text before it, counted as the note counts. */
  function offsetOf(node, offset) {
    var r = document.createRange();
    r.setStart(text, 0);
    r.setEnd(node, offset);
    return Array.from(r.toString()).length;
  }

  function selection() {
    var sel = window.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) return null;
    var range = sel.getRangeAt(0);
    if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return null;
    var start = offsetOf(range.startContainer, range.startOffset);
    var end = offsetOf(range.endContainer, range.endOffset);
    return start < end ? { start: start, end: end } : null;
  }

  function nextKey() {
    for (var j = current + 1; j < rows.length; j++) {
      if (rows[j].dataset.state === "pending") return rows[j].dataset.key;
    }
    return rows[Math.min(current + 1, rows.length - 1)].dataset.key;
  }

  function send(row, body) {
    body.fact = row.dataset.key;
    say("saving …");
    var follow = nextKey();
    fetch("/api/notes/" + noteIndex + "/decisions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) { say(result.data.error || "not saved", true); return; }
      location.hash = "fact-" + follow;
      location.reload();
    }).catch(function () { say("not saved: the server did not answer", true); });
  }

  function act(row, action) {
    if (action === "accept") return send(row, { action: "accept" });
    if (action === "reject") return send(row, { action: "reject", reason: row.querySelector("select.reason").value });
    var span = selection();
    var typed = row.querySelector("input.typed").value.trim();
    if (!span && !typed) { say("select the right text in the note, or type the value, then correct", true); return; }
    var body = { action: "correct" };
    if (span) { body.start = span.start; body.end = span.end; }
    if (typed) body.value = typed;
    send(row, body);
  }

  list.addEventListener("click", function (event) {
    var row = event.target.closest("li.fact");
    if (!row) return;
    select(rows.indexOf(row));
    var button = event.target.closest("button.act");
    if (button) act(row, button.dataset.action);
  });
  text.addEventListener("click", function (event) {
    var seg = event.target.closest(".seg.hl");
    if (!seg || !window.getSelection().isCollapsed) return;  // a drag selects text for a correction
    var keys = seg.dataset.facts.split(" ");
    var i = rows.findIndex(function (r) { return keys.indexOf(r.dataset.view) >= 0; });
    if (i >= 0) select(i);
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName);
    if (event.key === "Escape") { setChoosing(false); say(""); if (typing) event.target.blur(); return; }
    if (typing) {
      if (event.key === "Enter" && event.target.classList.contains("typed")) {
        act(event.target.closest("li.fact"), "correct");
      }
      return;
    }
    if (!rows.length) return;
    var row = rows[current];
    if (choosing && /^[1-5]$/.test(event.key)) {
      var select_ = row.querySelector("select.reason");
      select_.selectedIndex = Number(event.key) - 1;
      setChoosing(false);
      act(row, "reject");
      event.preventDefault();
      return;
    }
    switch (event.key) {
      case "j": case "ArrowDown": select(current + 1); break;
      case "k": case "ArrowUp": select(current - 1); break;
      case "a": act(row, "accept"); break;
      case "r": setChoosing(true); break;
      case "c": act(row, "correct"); break;
      case "n":
        var next = document.getElementById("next-note");
        if (next) location.href = next.href;
        break;
      default: return;
    }
    event.preventDefault();
  });

  var wanted = location.hash.indexOf("#fact-") === 0 ? location.hash.slice(6) : "";
  var start = rows.findIndex(function (r) { return r.dataset.key === wanted; });
  if (start < 0) start = rows.findIndex(function (r) { return r.dataset.state === "pending"; });
  select(start < 0 ? 0 : start);
})();
