// Search the fairio-tools training catalogue from another website, in place.
//
//   <div id="fairio-embed"></div>
//   <script src="https://<portal>/assets/embed.js" data-target="fairio-embed"></script>
//
// The script reads the portal's static API (api/v1/search-index.json, beside assets/ on the
// portal's own origin), so the portal's host must send `Access-Control-Allow-Origin` for
// api/v1/. It ranks with the portal's own search (assets/search-engine.js over MiniSearch,
// both loaded from the portal: the globals MiniSearch and FairioSearch), so a query finds
// here what it finds on the portal: typos, stems, acronyms; versions of one material show
// once. Results link to the material pages on the portal. Text is set with textContent
// only: nothing from the catalogue becomes markup.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var portal = new URL("../", script.src);
  var target = document.getElementById(script.getAttribute("data-target") || "fairio-embed");
  if (!target) return;
  var SHOWN = 10;

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

  function load(path) {
    return new Promise(function (resolve, reject) {
      var tag = make("script", { src: new URL(path, portal).href });
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error("cannot load " + path)); };
      document.head.appendChild(tag);
    });
  }

  var search = null;
  var scripts = window.FairioSearch ? Promise.resolve() :
    load("assets/vendor/minisearch/minisearch.js").then(function () {
      return load("assets/search-engine.js");
    });
  var index = fetch(new URL("api/v1/search-index.json", portal).href).then(function (response) {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  });
  Promise.all([index, scripts])
    .then(function (loaded) {
      var catalogue = loaded[0];
      catalogue.entries = catalogue.entries.filter(function (e) { return !e.x; });
      search = window.FairioSearch.create(catalogue, []);
      target.setAttribute("data-ready", String(catalogue.entries.length));
      run();
    })
    .catch(function (error) { status.textContent = "Catalogue not reachable: " + error.message; });

  function run() {
    if (!search) return;
    list.textContent = "";
    if (!window.FairioSearch.words(input.value).length) { status.textContent = ""; return; }
    var scores = search.rank(input.value);
    var hits = search.docs.filter(function (d) { return scores[d.k]; }).map(function (d) {
      return { doc: d, score: scores[d.k] };
    });
    hits.sort(function (a, b) {
      return b.score - a.score || a.doc.entry.n.localeCompare(b.doc.entry.n);
    });
    hits = window.FairioSearch.grouped(hits);
    status.textContent = hits.length + " materials";
    target.setAttribute("data-results", String(hits.length));
    hits.slice(0, SHOWN).forEach(function (hit) {
      var e = hit.doc.entry;
      var item = make("li");
      item.appendChild(make("a", { href: new URL("catalogue/materials/" + encodeURIComponent(e.i) +
                                                 ".html", portal).href }, e.n));
      list.appendChild(item);
    });
  }
  input.addEventListener("input", run);
})();
