// The header search box of every portal page: the same search as the catalogue search page
// (assets/search-engine.js over the materials and the portal's pages), its best results
// shown under the box as one types. Enter submits the form: catalogue/search.html?q=...
// The index and MiniSearch are loaded when the box is first used, not with every page.
(function () {
  "use strict";
  var script = document.currentScript;
  var form = document.querySelector(".fairio-header-search");
  if (!script || !form) return;
  var base = new URL("../", script.src); // the site root: this file is assets/header-search.js
  var input = form.querySelector("input[name=q]");
  var box = document.getElementById("fairio-header-results");
  var MATERIALS_SHOWN = 6;
  var PAGES_SHOWN = 3;
  var NEEDED = [
    ["MiniSearch", "assets/vendor/minisearch/minisearch.js"],
    ["FairioSearch", "assets/search-engine.js"],
    ["fairioCatalogue", "assets/catalogue-index.js"],
    ["fairioPages", "assets/pages-index.js"],
  ];

  var loading = null;
  function load() {
    if (loading) return loading;
    loading = NEEDED.reduce(function (previous, need) {
      return previous.then(function () {
        if (window[need[0]]) return null;
        return new Promise(function (resolve, reject) {
          var tag = document.createElement("script");
          tag.src = new URL(need[1], base).href;
          tag.onload = resolve;
          tag.onerror = function () { reject(new Error(need[1] + " did not load")); };
          document.head.appendChild(tag);
        });
      });
    }, Promise.resolve()).then(function () {
      return window.FairioSearch.create(window.fairioCatalogue, window.fairioPages);
    });
    return loading;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function show(open) {
    box.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
  }

  function render(search, q) {
    box.textContent = "";
    if (!window.FairioSearch.words(q).length) { show(false); return; }
    var scores = search.rank(q);
    var materials = [];
    var pages = [];
    search.docs.forEach(function (doc) {
      if (!scores[doc.k] || (doc.entry && doc.entry.x)) return;
      (doc.entry ? materials : pages).push({ doc: doc, score: scores[doc.k] });
    });
    function byScore(a, b) {
      return b.score - a.score ||
        ((b.doc.entry || {}).y || "").localeCompare((a.doc.entry || {}).y || "");
    }
    materials = window.FairioSearch.grouped(materials.sort(byScore));
    pages.sort(byScore);
    form.setAttribute("data-materials", String(materials.length));
    form.setAttribute("data-pages", String(pages.length));
    var list = box.appendChild(el("ul", { "class": "fairio-header-list" }));
    materials.slice(0, MATERIALS_SHOWN).forEach(function (m) {
      var e = m.doc.entry;
      var item = list.appendChild(el("li", { "class": "fairio-header-material" }));
      item.appendChild(el("a", {
        href: new URL("catalogue/materials/" + encodeURIComponent(e.i) + ".html", base).href,
      }, e.n));
      var kinds = window.FairioSearch.values(e, "t").map(function (t) {
        return window.fairioCatalogue.types[t] || t;
      });
      if (m.others.length) kinds.push((m.others.length + 1) + " versions");
      item.appendChild(el("span", { "class": "fairio-meta" }, " " + (kinds.join(" · ") || "Material")));
    });
    pages.slice(0, PAGES_SHOWN).forEach(function (m) {
      var item = list.appendChild(el("li", { "class": "fairio-header-page" }));
      item.appendChild(el("a", { href: new URL(m.doc.page.u, base).href }, m.doc.page.n));
      item.appendChild(el("span", { "class": "fairio-meta" }, " Portal page"));
    });
    var all = new URL("catalogue/search.html", base);
    all.search = new URLSearchParams({ q: q }).toString();
    box.appendChild(el("a", { "class": "fairio-header-all", href: all.href },
      materials.length || pages.length
        ? "All " + materials.length + " materials and " + pages.length + " pages \u2192"
        : "Nothing found for \u201c" + q.trim() + "\u201d"));
    show(true);
  }

  var timer = null;
  input.addEventListener("focus", load);
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var q = input.value;
      load().then(function (search) { if (input.value === q) render(search, q); });
    }, 120);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") show(false);
  });
  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) show(false);
  });
})();
