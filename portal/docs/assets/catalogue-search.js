// Faceted search over the training catalogue, entirely in the browser.
// Data: window.fairioCatalogue (assets/catalogue-index.js, generated at build time).
// Ranking: MiniSearch (assets/vendor/minisearch, loaded first) over name, tags, type,
// authors and the whole description; every query word must match, as a word, a prefix or
// (five letters or more) with one typo; words are stemmed and a curated list of synonyms
// and acronyms (IDR, RDM, OME-Zarr/NGFF, DL) is searched too. Facets (type, level,
// licence, tag, curation: community reviewed, persistently available) combine with AND across facets and OR within one, and their counts show
// what each choice would give. Deprecated materials (every link dead, "x" in the index)
// are left out unless "Include deprecated" is ticked. State lives in the URL
// (?query=...&type=...&deprecated=1), so links work. Not ?q=: the theme's own search reacts
// to ?q= by opening its overlay over the results.
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
  var QUERY = "query";
  var SHOWN = 240; // characters of a description shown in a result (all of it is searched)
  var TAGS_SHOWN = 15;
  var PAGE = 50;

  var query = document.getElementById("fairio-query");
  var facetsBox = document.getElementById("fairio-facets");
  var results = document.getElementById("fairio-results");
  var count = document.getElementById("fairio-count");
  var toggle = document.getElementById("fairio-filters-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = facetsBox.classList.toggle("fairio-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function words(text) {
    return fold(text).split(/[^a-z0-9]+/).filter(Boolean);
  }
  function values(entry, field) {
    var v = entry[field];
    if (v === undefined) return [];
    return Array.isArray(v) ? v : [v];
  }

  // Synonyms and acronyms (a small curated list): a material that writes any form of a group
  // is also indexed under the group's key, and a query naming any form also asks for the key.
  var SYNONYMS = {
    idr: ["idr", "image data resource"],
    rdm: ["rdm", "research data management"],
    ngff: ["ngff", "ome zarr", "omezarr", "next generation file format"],
    dl: ["dl", "deep learning"],
    ml: ["ml", "machine learning"],
    ai: ["ai", "artificial intelligence"],
  };
  // A small English suffix stripper (MiniSearch has no stemmer): "segmentation", "segmenting",
  // "segmented" and "segments" all become "segment"; words under five letters are kept.
  var SUFFIXES = ["ational", "ations", "ation", "ings", "ing", "ies", "edly", "ed", "ly", "s"];
  function stem(word) {
    if (word.length < 5) return word;
    for (var i = 0; i < SUFFIXES.length; i++) {
      var suffix = SUFFIXES[i];
      if (word.slice(-suffix.length) !== suffix || word.length - suffix.length < 4) continue;
      if (suffix === "s" && /(ss|us|is)$/.test(word)) return word;
      return word.slice(0, -suffix.length) + (suffix === "ies" ? "y" : "");
    }
    return word;
  }
  function groupsIn(text) {
    var folded = " " + words(text).join(" ") + " ";
    return Object.keys(SYNONYMS).filter(function (key) {
      return SYNONYMS[key].some(function (form) { return folded.indexOf(" " + form + " ") !== -1; });
    });
  }

  var docs = data.entries.map(function (e, k) {
    var types = values(e, "t").map(function (t) { return (data.types[t] || t) + " " + t; });
    var all = [e.n, values(e, "g").join(" "), e.d || ""].join(" ");
    return {
      k: k,
      entry: e,
      nameText: fold(e.n),
      fields: { k: k, name: e.n, tags: values(e, "g").join(" "), types: types.join(" "),
                authors: e.a || "", description: e.d || "", aka: groupsIn(all).join(" ") },
    };
  });
  // The full-text index is built on the first query (or right after the first render), so
  // the page shows the catalogue at once.
  var engine = null;
  function getEngine() {
    if (engine) return engine;
    engine = new MiniSearch({
      idField: "k",
      fields: ["name", "tags", "types", "authors", "description", "aka"],
      // indexed as written and as stemmed, so a typo in a long word still finds it
      processTerm: function (term) {
        var w = fold(term);
        if (!w) return null;
        var s = stem(w);
        return s === w ? w : [w, s];
      },
      searchOptions: {
        processTerm: function (term) { var w = fold(term); return w ? stem(w) : null; },
      },
    });
    engine.addAll(docs.map(function (d) { return d.fields; }));
    return engine;
  }
  var OPTIONS = {
    boost: { name: 5, aka: 4, tags: 3, types: 2.5, authors: 2, description: 1 },
    combineWith: "AND",
    prefix: function (term) { return term.length >= 3; },
    fuzzy: function (term) { return term.length >= 5 ? 1 : false; },
  };

  // One query word: itself, or (five letters or more) with two neighbours swapped, since
  // MiniSearch's fuzzy match counts a swap as two edits.
  function wordQuery(word) {
    if (word.length < 5) return word;
    var swapped = [];
    for (var i = 0; i + 1 < word.length; i++) {
      swapped.push(word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2));
    }
    return { combineWith: "OR", queries: [
      word, { combineWith: "OR", queries: swapped, prefix: false, fuzzy: false },
    ] };
  }
  function allWords(list) {
    return { combineWith: "AND", queries: list.map(wordQuery) };
  }

  // Ranks every material for the query: {index: score}; every query word must match.
  function ranked(q) {
    var query = allWords(words(q));
    var keys = groupsIn(q);
    if (keys.length) {
      query = { combineWith: "OR", queries: [query].concat(keys.map(function (key) {
        var rest = " " + words(q).join(" ") + " ";
        SYNONYMS[key].forEach(function (form) { rest = rest.split(" " + form + " ").join(" "); });
        return { combineWith: "AND", queries: [
          { queries: [key], fields: ["aka"], prefix: false, fuzzy: false },
        ].concat(rest.trim() ? [allWords(words(rest))] : []) };
      })) };
    }
    var scores = {};
    var phrase = words(q).join(" ");
    getEngine().search(query, OPTIONS).forEach(function (hit) {
      var bonus = phrase.indexOf(" ") !== -1 && docs[hit.id].nameText.indexOf(phrase) !== -1;
      scores[hit.id] = hit.score + (bonus ? 1000 : 0);
    });
    return scores;
  }

  var deprecatedCount = data.entries.filter(function (e) { return e.x; }).length;
  var state = { q: "", selected: {}, shown: PAGE, showAllTags: false, deprecated: false };
  FACETS.forEach(function (f) { state.selected[f.key] = {}; });

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    state.q = params.get(QUERY) || "";
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
      var chosen = Object.keys(state.selected[f.key]);
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
      var counts = {};
      matched.forEach(function (m) {
        if (!passes(m.doc, f.key)) return;
        values(m.doc.entry, f.field).forEach(function (v) { counts[v] = (counts[v] || 0) + 1; });
      });
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
    var qwords = words(state.q);
    var scores = qwords.length ? ranked(state.q) : null;
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
  window.setTimeout(getEngine, 0);
})();
