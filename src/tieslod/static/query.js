// The landing page's query form: POST to /sparql (SPARQL 1.1 Protocol), show results as a table.
// Everything from the data goes in through textContent, never innerHTML.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  if (!form) { return; }
  var box = document.getElementById("query");
  var out = document.getElementById("results");
  var status = document.getElementById("status");
  var base = form.dataset.base, prefix = form.dataset.prefix;
  var ontology = "https://w3id.org/tieslod/ontology";

  function href(iri) {
    if (iri.indexOf(base) === 0) { return prefix + iri.slice(base.length); }
    if (iri === ontology || iri.indexOf(ontology + "#") === 0) { return "/ontology" + iri.slice(ontology.length); }
    return iri;
  }

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      var a = document.createElement("a");
      a.href = href(term.value);
      a.textContent = term.value.indexOf(base) === 0 ? term.value.slice(base.length) : term.value;
      a.title = term.value;
      td.appendChild(a);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) { td.lang = term["xml:lang"]; }
    }
    return td;
  }

  function table(data) {
    var t = document.createElement("table");
    t.className = "results";
    var head = t.createTHead().insertRow();
    data.head.vars.forEach(function (v) {
      var th = document.createElement("th"); th.textContent = v; head.appendChild(th);
    });
    var body = t.createTBody();
    data.results.bindings.forEach(function (row) {
      var tr = body.insertRow();
      data.head.vars.forEach(function (v) { tr.appendChild(cell(row[v])); });
    });
    return t;
  }

  function show(response, text) {
    out.textContent = "";
    var type = response.headers.get("content-type") || "";
    if (!response.ok) {
      var pre = document.createElement("pre"); pre.className = "error"; pre.textContent = text;
      out.appendChild(pre); status.textContent = "Error " + response.status; return;
    }
    if (type.indexOf("application/sparql-results+json") === 0 || type.indexOf("application/json") === 0) {
      var data = JSON.parse(text);
      if (typeof data.boolean === "boolean") {
        var p = document.createElement("p"); p.className = "boolean"; p.textContent = String(data.boolean);
        out.appendChild(p); status.textContent = "Answer: " + data.boolean; return;
      }
      out.appendChild(table(data));
      status.textContent = data.results.bindings.length + " row(s)";
    } else {
      var graph = document.createElement("pre"); graph.className = "graph"; graph.textContent = text;
      out.appendChild(graph); status.textContent = "Graph result";
    }
  }

  function run() {
    status.textContent = "Running…";
    var body = new URLSearchParams(); body.set("query", box.value);
    fetch(form.action, {
      method: "POST", body: body,
      headers: {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
    }).then(function (r) { return r.text().then(function (t) { show(r, t); }); })
      .catch(function (e) { status.textContent = "Failed: " + e; });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); run(); });
  Array.prototype.forEach.call(document.querySelectorAll("button.example"), function (b) {
    b.addEventListener("click", function () { box.value = b.dataset.query; run(); });
  });
})();
