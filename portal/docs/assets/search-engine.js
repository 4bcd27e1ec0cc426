// The portal's one search, shared by the catalogue search page and the header search box:
// MiniSearch (assets/vendor/minisearch, loaded first) over the materials
// (window.fairioCatalogue, assets/catalogue-index.js) and the portal's own pages
// (window.fairioPages, assets/pages-index.js). Name, tags, type, authors and the whole
// description or page text are searched; every query word must match, as a word, a prefix
// or (five letters or more) with one typo; words are stemmed and a curated list of synonyms
// and acronyms (IDR, RDM, OME-Zarr/NGFF, DL) is searched too.
//
// FairioSearch.create(catalogue, pages) gives {docs, rank}: docs[k] is {k, entry} for a
// material or {k, page} for a page; rank(q) maps k to a score for every match.
(function () {
  "use strict";

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

  // Synonyms and acronyms (a small curated list): a document that writes any form of a group
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

  function create(catalogue, pages) {
    var docs = [];
    var fields = [];
    catalogue.entries.forEach(function (e) {
      var k = docs.length;
      var types = values(e, "t").map(function (t) { return (catalogue.types[t] || t) + " " + t; });
      var all = [e.n, values(e, "g").join(" "), e.d || ""].join(" ");
      docs.push({ k: k, entry: e, nameText: fold(e.n) });
      fields.push({ k: k, name: e.n, tags: values(e, "g").join(" "), types: types.join(" "),
                    authors: e.a || "", description: e.d || "", aka: groupsIn(all).join(" ") });
    });
    (pages || []).forEach(function (p) {
      var k = docs.length;
      docs.push({ k: k, page: p, nameText: fold(p.n) });
      fields.push({ k: k, name: p.n, tags: "", types: "page", authors: "", description: p.d || "",
                    aka: groupsIn(p.n + " " + (p.d || "")).join(" ") });
    });
    // The full-text index is built on the first query (or when the page asks for it), so a
    // page can show the catalogue at once.
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
      engine.addAll(fields);
      performance.mark("fairio:index"); // built (benchmarks/portal.py reads it)
      return engine;
    }

    // Ranks every document for the query: {k: score}; every query word must match.
    function rank(q) {
      var list = words(q);
      if (!list.length) return {};
      var query = allWords(list);
      var keys = groupsIn(q);
      if (keys.length) {
        query = { combineWith: "OR", queries: [query].concat(keys.map(function (key) {
          var rest = " " + list.join(" ") + " ";
          SYNONYMS[key].forEach(function (form) { rest = rest.split(" " + form + " ").join(" "); });
          return { combineWith: "AND", queries: [
            { queries: [key], fields: ["aka"], prefix: false, fuzzy: false },
          ].concat(rest.trim() ? [allWords(words(rest))] : []) };
        })) };
      }
      var scores = {};
      var phrase = list.join(" ");
      getEngine().search(query, OPTIONS).forEach(function (hit) {
        var bonus = phrase.indexOf(" ") !== -1 && docs[hit.id].nameText.indexOf(phrase) !== -1;
        scores[hit.id] = hit.score + (bonus ? 1000 : 0);
      });
      return scores;
    }

    return { docs: docs, rank: rank, prepare: getEngine };
  }

  // Materials that are versions or copies of one material share a group ("v" in the index):
  // hits is a ranked list of {doc, score}; each group keeps its best-ranked member, with the
  // others as doc.others in rank order.
  function grouped(hits) {
    var seen = {};
    var out = [];
    hits.forEach(function (m) {
      var key = m.doc.entry && m.doc.entry.v;
      if (key && seen[key]) { seen[key].others.push(m.doc.entry); return; }
      var shown = { doc: m.doc, score: m.score, others: [] };
      if (key) seen[key] = shown;
      out.push(shown);
    });
    return out;
  }

  window.FairioSearch = { create: create, grouped: grouped, words: words, values: values };
})();
