// Search the fairio-tools training catalogue from another website, in place.
//
//   <div id="fairio-embed"></div>
//   <script src="https://<portal>/assets/embed.js" data-target="fairio-embed"></script>
//
// The script reads the portal's static API (api/v1/search-index.json, beside assets/ on the
// portal's own origin), so the portal's host must send `Access-Control-Allow-Origin` for
// api/v1/. Results link to the material pages on the portal. Every query word must start a
// word of the title, tags, authors or description; title matches rank first. Text is set
// with textContent only: nothing from the catalogue becomes markup.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var portal = new URL("../", script.src);
  var target = document.getElementById(script.getAttribute("data-target") || "fairio-embed");
  if (!target) return;
  var SHOWN = 10;

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function words(text) {
    return fold(text).split(/[^a-z0-9]+/).filter(Boolean);
  }
  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var input = make("input", { type: "search", "aria-label": "Search training materials",
                              placeholder: "Search bioimage training materials" });
  var list = make("ol", { "class": "fairio-embed-results" });
  var status = make("p", { "class": "fairio-embed-status", "aria-live": "polite" });
  target.appendChild(input);
  target.appendChild(status);
  target.appendChild(list);

  var docs = null;
  fetch(new URL("api/v1/search-index.json", portal).href)
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (index) {
      docs = index.entries.filter(function (e) { return !e.x; }).map(function (e) {
        return { entry: e, name: words(e.n),
                 rest: words([].concat(e.g || [], e.a || "", e.d || "").join(" ")) };
      });
      target.setAttribute("data-ready", String(docs.length));
      run();
    })
    .catch(function (error) { status.textContent = "Catalogue not reachable: " + error.message; });

  function starts(tokens, word) {
    for (var i = 0; i < tokens.length; i++) if (tokens[i].lastIndexOf(word, 0) === 0) return true;
    return false;
  }
  function run() {
    if (!docs) return;
    var query = words(input.value);
    list.textContent = "";
    if (!query.length) { status.textContent = ""; return; }
    var found = [];
    docs.forEach(function (doc) {
      var score = 0;
      for (var i = 0; i < query.length; i++) {
        if (starts(doc.name, query[i])) score += 2;
        else if (starts(doc.rest, query[i])) score += 1;
        else return;
      }
      found.push({ doc: doc, score: score });
    });
    found.sort(function (a, b) { return b.score - a.score || a.doc.entry.n.localeCompare(b.doc.entry.n); });
    status.textContent = found.length + " materials";
    target.setAttribute("data-results", String(found.length));
    found.slice(0, SHOWN).forEach(function (hit) {
      var e = hit.doc.entry;
      var item = make("li");
      item.appendChild(make("a", { href: new URL("catalogue/materials/" + encodeURIComponent(e.i) +
                                                 ".html", portal).href }, e.n));
      list.appendChild(item);
    });
  }
  input.addEventListener("input", run);
})();
