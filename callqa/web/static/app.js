/* callqa web: evidence playback, the playing utterance, sortable tables. Plain JS, no library. */
(function () {
  "use strict";

  function player() { return document.getElementById("call-audio"); }

  // Clicking evidence (or a play button) plays the recording from that second.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-seek]");
    if (!target) return;
    var audio = player();
    if (!audio) return;
    event.preventDefault();
    var start = parseFloat(target.getAttribute("data-seek"));
    var go = function () {
      audio.currentTime = start;
      var playing = audio.play();
      if (playing && playing.catch) playing.catch(function () { /* autoplay refused: the position is still set */ });
    };
    if (audio.readyState >= 1) go(); else { audio.addEventListener("loadedmetadata", go, { once: true }); audio.load(); }
  });

  // The utterance being played is highlighted and kept in view.
  function follow() {
    var audio = player();
    if (!audio) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-utt-start]"));
    var last = null;
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime, found = null;
      for (var i = 0; i < rows.length; i++) {
        var s = parseFloat(rows[i].getAttribute("data-utt-start"));
        var e = parseFloat(rows[i].getAttribute("data-utt-end"));
        if (t >= s && t < e) { found = rows[i]; break; }
      }
      if (found === last) return;
      if (last) last.classList.remove("current");
      if (found) {
        found.classList.add("current");
        if (found.scrollIntoView) found.scrollIntoView({ block: "nearest" });
      }
      last = found;
    });
  }

  // Tables with class "sortable": click a header to sort by its column (data-sort on cells, else text).
  function sortable() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th, col) {
        th.addEventListener("click", function () {
          var body = table.tBodies[0];
          var asc = th.getAttribute("aria-sort") !== "ascending";
          table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          var rows = Array.prototype.slice.call(body.rows);
          var key = function (row) {
            var cell = row.cells[col];
            var v = cell.getAttribute("data-sort");
            if (v === null) return cell.textContent.trim();
            var n = parseFloat(v);
            return isNaN(n) ? v : n;
          };
          rows.sort(function (a, b) {
            var x = key(a), y = key(b);
            var c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
            return asc ? c : -c;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }

  // A link to "/calls/ID#t=SECONDS" (the agent home's play buttons) opens the call at that second.
  function seekFromHash() {
    var m = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
    var audio = player();
    if (!m || !audio) return;
    var start = parseFloat(m[1]);
    var go = function () { audio.currentTime = start; };
    if (audio.readyState >= 1) go(); else audio.addEventListener("loadedmetadata", go, { once: true });
  }

  document.addEventListener("DOMContentLoaded", function () { follow(); sortable(); seekFromHash(); });
})();
