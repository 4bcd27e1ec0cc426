// Faceted search over the training catalogue and the portal's pages, entirely in the browser.
// Data: window.fairioCatalogue (assets/catalogue-index.js) and window.fairioPages
// (assets/pages-index.js), generated at build time; ranking: assets/search-engine.js, the
// same search the header box runs. Materials that are versions or copies of one material
// show as one result with the others under it. Facets (type, level, licence, tag, curation:
// community reviewed, persistently available) combine with AND across facets and OR within
// one, and their counts show what each choice would give. Deprecated materials (every link
// dead, "x" in the index) are left out unless "Include deprecated" is ticked. State lives in
// the URL (?q=...&type=...&deprecated=1; ?query= is read too), so links work.
(function () {
  "use strict";
  var data = window.fairioCatalogue;
  var root = document.getElementById("fairio-search");
  if (!data || !root) return;

  var FACETS = [
    { key: "type", field: "t", title: "Type", label: function (v) { return data.types[v] || v; } },
    { key: "level", field: "l", title: "Level", label: function (v) { return data.levels[v] || v; } },
    { key: "license", field: "c", title: "Licence", label: function (v) { return v; } },
    { key: "tag", field: "g", title: "Tag", label: function (v) { return v; } },
    { key: "curation", field: "q", title: "Curation",
      label: function (v) { return (data.marks || {})[v] || v; } },
  ];
  var QUERY = "q";
  var OLD_QUERY = "query"; // what links shared before the header search was this one
  var PAGES_SHOWN = 5;
  var SHOWN = 240; // characters of a description shown in a result (all of it is searched)
  var TAGS_SHOWN = 15;
  var PAGE = 50;

  var query = document.getElementById("fairio-query");
  var facetsBox = document.getElementById("fairio-facets");
  var results = document.getElementById("fairio-results");
  var count = document.getElementById("fairio-count");
  var pagesBox = document.getElementById("fairio-pages");
  var toggle = document.getElementById("fairio-filters-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = facetsBox.classList.toggle("fairio-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  var search = window.FairioSearch.create(data, window.fairioPages || []);
  var words = window.FairioSearch.words;
  var values = window.FairioSearch.values;
  var docs = search.docs.filter(function (d) { return d.entry; });
  var pageDocs = search.docs.filter(function (d) { return d.page; });

  var deprecatedCount = data.entries.filter(function (e) { return e.x; }).length;
  var state = { q: "", selected: {}, shown: PAGE, showAllTags: false, deprecated: false };
  FACETS.forEach(function (f) { state.selected[f.key] = {}; });

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    state.q = params.get(QUERY) || params.get(OLD_QUERY) || "";
    state.deprecated = params.get("deprecated") === "1";
    FACETS.forEach(function (f) {
      params.getAll(f.key).forEach(function (v) { state.selected[f.key][v] = true; });
    });
  }
  function writeUrl() {
    var params = new URLSearchParams();
    if (state.q) params.set(QUERY, state.q);
    if (state.deprecated) params.set("deprecated", "1");
    FACETS.forEach(function (f) {
      Object.keys(state.selected[f.key]).forEach(function (v) { params.append(f.key, v); });
    });
    var search = params.toString();
    try {
      window.history.replaceState(null, "", search ? "?" + search : window.location.pathname);
    } catch (err) { /* file:// in some browsers: the URL just does not follow */ }
  }

  function passes(doc, except) {
    for (var i = 0; i < FACETS.length; i++) {
      var f = FACETS[i];
      if (f.key === except) continue;
      var chosen = state.chosen[i];
      if (!chosen.length) continue;
      var have = values(doc.entry, f.field);
      if (!chosen.some(function (v) { return have.indexOf(v) !== -1; })) return false;
    }
    return true;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderFacets(matched) {
    facetsBox.textContent = "";
    FACETS.forEach(function (f) {
      var groups = {}; // value -> {group: true}: versions of one material count once
      matched.forEach(function (m) {
        if (!passes(m.doc, f.key)) return;
        var group = m.doc.entry.v || "#" + m.doc.k;
        values(m.doc.entry, f.field).forEach(function (v) {
          (groups[v] = groups[v] || {})[group] = true;
        });
      });
      var counts = {};
      Object.keys(groups).forEach(function (v) { counts[v] = Object.keys(groups[v]).length; });
      Object.keys(state.selected[f.key]).forEach(function (v) { counts[v] = counts[v] || 0; });
      var keys = Object.keys(counts).sort(function (a, b) {
        return counts[b] - counts[a] || f.label(a).localeCompare(f.label(b));
      });
      if (!keys.length) return;
      var box = el("fieldset", { "class": "fairio-facet", "data-facet": f.key });
      box.appendChild(el("legend", {}, f.title));
      var limit = f.key === "tag" && !state.showAllTags ? TAGS_SHOWN : keys.length;
      keys.forEach(function (v, i) {
        if (i >= limit && !state.selected[f.key][v]) return;
        var id = "fairio-" + f.key + "-" + i;
        var row = el("div", { "class": "fairio-facet-row" });
        var input = el("input", { type: "checkbox", id: id, "data-facet": f.key, value: v });
        input.checked = !!state.selected[f.key][v];
        var label = el("label", { "for": id }, f.label(v) + " (" + counts[v] + ")");
        row.appendChild(input);
        row.appendChild(label);
        box.appendChild(row);
      });
      if (f.key === "tag" && keys.length > TAGS_SHOWN) {
        var more = el("button", { type: "button", "class": "fairio-more" },
          state.showAllTags ? "Fewer tags" : "All " + keys.length + " tags");
        more.addEventListener("click", function () {
          state.showAllTags = !state.showAllTags;
          update(false);
        });
        box.appendChild(more);
      }
      facetsBox.appendChild(box);
    });
  }

  function renderDeprecatedToggle() {
    if (!deprecatedCount) return;
    var box = el("fieldset", { "class": "fairio-facet", "data-facet": "deprecated" });
    box.appendChild(el("legend", {}, "Link health"));
    var row = el("div", { "class": "fairio-facet-row" });
    var input = el("input", { type: "checkbox", id: "fairio-deprecated" });
    input.checked = state.deprecated;
    input.addEventListener("change", function () { state.deprecated = input.checked; update(true); });
    row.appendChild(input);
    row.appendChild(el("label", { "for": "fairio-deprecated" },
      "Include deprecated (" + deprecatedCount + ")"));
    box.appendChild(row);
    facetsBox.appendChild(box);
  }

  // "2 versions · also listed as: <title (year)>, ..." under a group's shown member.
  function othersLine(others) {
    var line = el("div", { "class": "fairio-meta fairio-versions" },
      (others.length + 1) + " versions \u00b7 also listed as: ");
    others.forEach(function (o, i) {
      if (i) line.appendChild(document.createTextNode(", "));
      line.appendChild(el("a", { href: "materials/" + encodeURIComponent(o.i) + ".html" },
        o.n + (o.y ? " (" + o.y + ")" : "")));
    });
    return line;
  }

  function renderPages(scores) {
    pagesBox.textContent = "";
    var found = pageDocs.filter(function (d) { return scores[d.k]; })
      .sort(function (a, b) { return scores[b.k] - scores[a.k]; });
    root.setAttribute("data-pages", String(found.length));
    if (!found.length) return;
    pagesBox.appendChild(el("strong", {}, "Portal pages: "));
    found.slice(0, PAGES_SHOWN).forEach(function (d, i) {
      if (i) pagesBox.appendChild(document.createTextNode(" \u00b7 "));
      pagesBox.appendChild(el("a", { href: "../" + d.page.u }, d.page.n));
    });
  }

  function renderResults(hits) {
    results.textContent = "";
    hits.slice(0, state.shown).forEach(function (m) {
      var e = m.doc.entry;
      var li = el("li", { "class": "fairio-result" });
      var a = el("a", { href: "materials/" + encodeURIComponent(e.i) + ".html" }, e.n);
      li.appendChild(a);
      var meta = values(e, "t").map(function (t) { return data.types[t] || t; })
        .concat(values(e, "l").map(function (l) { return data.levels[l] || l; }))
        .concat(values(e, "c"), e.y ? [e.y] : [], e.x ? ["deprecated: links dead"] : []);
      li.appendChild(el("div", { "class": "fairio-meta" }, meta.join(" · ")));
      if (e.d) li.appendChild(el("p", {}, e.d.length > SHOWN ? e.d.slice(0, SHOWN) + "…" : e.d));
      if (e.g) li.appendChild(el("div", { "class": "fairio-tags" }, e.g.join(", ")));
      if (m.others.length) li.appendChild(othersLine(m.others));
      results.appendChild(li);
    });
    if (hits.length > state.shown) {
      var more = el("button", { type: "button", "class": "fairio-more" },
        "Show " + Math.min(PAGE, hits.length - state.shown) + " more");
      more.addEventListener("click", function () { state.shown += PAGE; renderResults(hits); });
      results.appendChild(el("li", { "class": "fairio-result" })).appendChild(more);
    }
  }

  function update(resetPage) {
    if (resetPage) state.shown = PAGE;
    // the chosen values of each facet, once per update (passes() runs for every match)
    state.chosen = FACETS.map(function (f) { return Object.keys(state.selected[f.key]); });
    var qwords = words(state.q);
    var scores = qwords.length ? search.rank(state.q) : null;
    var matched = [];
    docs.forEach(function (doc) {
      if (doc.entry.x && !state.deprecated) return;
      var s = scores ? scores[doc.k] || 0 : 1;
      if (s) matched.push({ doc: doc, score: s });
    });
    var hits = matched.filter(function (m) { return passes(m.doc, null); });
    hits.sort(function (a, b) {
      return b.score - a.score || (b.doc.entry.y || "").localeCompare(a.doc.entry.y || "") ||
        a.doc.entry.n.localeCompare(b.doc.entry.n);
    });
    hits = window.FairioSearch.grouped(hits);
    renderPages(scores || {});
    renderFacets(matched);
    renderDeprecatedToggle();
    renderResults(hits);
    count.textContent = hits.length + (hits.length === 1 ? " material" : " materials") +
      (qwords.length ? " for \u201c" + state.q.trim() + "\u201d" : "");
    root.setAttribute("data-results", String(hits.length));
    writeUrl();
  }

  facetsBox.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("input[data-facet]")) return;
    var chosen = state.selected[input.getAttribute("data-facet")];
    if (input.checked) chosen[input.value] = true; else delete chosen[input.value];
    update(true);
  });
  var timer = null;
  query.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { state.q = query.value; update(true); }, 120);
  });

  readUrl();
  query.value = state.q;
  update(true);
  // The first results are painted before the full-text index is built: at the frame after
  // them ("fairio:results", which benchmarks/portal.py reads), or at once when the page has
  // loaded; the index is built once the page has loaded (a query before builds it at once).
  window.requestAnimationFrame(function () { performance.mark("fairio:results"); });
  window.addEventListener("load", function () { window.setTimeout(search.prepare, 0); });
})();
