/* kgqa review report: fact details on the note pages, sorting and filtering on the index.
   No data is turned into HTML here: every card is rendered (and escaped) on the server,
   the script only shows and hides elements. */
(function () {
  "use strict";

  function notePage() {
    var panel = document.getElementById("details");
    var text = document.getElementById("note-text");
    if (!panel || !text) return;
    var pinned = false;

    function cards() { return panel.querySelectorAll(".fact-card"); }
    function clearActive() {
      text.querySelectorAll(".seg.active").forEach(function (s) { s.classList.remove("active"); });
    }
    function show(keys) {
      cards().forEach(function (card) { card.hidden = keys.indexOf(card.dataset.fact) < 0; });
      panel.hidden = keys.length === 0;
    }
    function hide() { pinned = false; clearActive(); show([]); }
    function segmentsOf(key) {
      return Array.prototype.filter.call(text.querySelectorAll(".seg.hl"), function (s) {
        return s.dataset.facts.split(" ").indexOf(key) >= 0;
      });
    }

    function activate(seg) {
      clearActive();
      seg.classList.add("active");
      pinned = true;
      show(seg.dataset.facts.split(" "));
    }
    text.addEventListener("click", function (event) {
      var seg = event.target.closest(".seg.hl");
      if (seg) activate(seg);
    });
    text.addEventListener("keydown", function (event) {  // highlights are focusable (tabindex)
      var seg = event.target.closest(".seg.hl");
      if (seg && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); activate(seg); }
    });
    text.addEventListener("mouseover", function (event) {
      var seg = event.target.closest(".seg.hl");
      if (seg && !pinned) show(seg.dataset.facts.split(" "));
    });
    text.addEventListener("mouseout", function (event) {
      var seg = event.target.closest(".seg.hl");
      if (seg && !pinned && !seg.contains(event.relatedTarget)) show([]);
    });
    document.querySelectorAll("button.val").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.dataset.fact;
        clearActive();
        var segs = segmentsOf(key);
        segs.forEach(function (s) { s.classList.add("active"); });
        if (segs.length) segs[0].scrollIntoView({ block: "center" });
        pinned = true;
        show([key]);
      });
    });
    document.getElementById("details-close").addEventListener("click", hide);
    var hideNotFound = document.getElementById("hide-not-found");
    hideNotFound.addEventListener("change", function () {
      document.getElementById("concepts").classList.toggle("hide-nf", hideNotFound.checked);
    });
    document.addEventListener("keydown", function (event) { if (event.key === "Escape") hide(); });
  }

  function indexPage() {
    var table = document.getElementById("notes");
    if (!table) return;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var textBox = document.getElementById("filter-text");
    var langBox = document.getElementById("filter-lang");
    var flagged = document.getElementById("filter-flagged");
    var counter = document.getElementById("shown-count");

    table.querySelectorAll("th[data-key]").forEach(function (th) {
      th.addEventListener("click", function () {
        var key = th.dataset.key, numeric = th.dataset.type === "num";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th[data-key]").forEach(function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a.dataset[key], y = b.dataset[key];
          var d = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, { numeric: true });
          return ascending ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });

    function apply() {
      var needle = textBox.value.trim().toLowerCase(), lang = langBox.value, shown = 0;
      rows.forEach(function (r) {
        var hay = (r.dataset.id + " " + r.dataset.patient + " " + r.dataset.source).toLowerCase();
        var ok = (!needle || hay.indexOf(needle) >= 0) && (!lang || r.dataset.lang === lang) &&
          (!flagged.checked || Number(r.dataset.low) + Number(r.dataset.rejected) > 0);
        r.hidden = !ok;
        if (ok) shown += 1;
      });
      counter.textContent = shown + " shown";
    }
    textBox.addEventListener("input", apply);
    langBox.addEventListener("change", apply);
    flagged.addEventListener("change", apply);
  }

  notePage();
  indexPage();
})();
