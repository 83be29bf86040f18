// The query UI at /sparql: YASGUI (static/yasgui/) on our endpoint, with our prefixes, the competency
// questions as examples, result IRIs of our own linking to our pages, and the query always in the
// address bar after `#query=` (a link to share; a shared link opens with its query run). The `#` part
// never reaches the server, so /sparql?query= stays a plain SPARQL protocol request.
(function () {
  "use strict";
  var host = document.getElementById("yasgui");
  if (!host || typeof Yasgui === "undefined") { return; }
  var config = JSON.parse(document.getElementById("yasgui-config").textContent);
  var ontology = "https://w3id.org/tieslod/ontology";

  // Where a link to one of our IRIs should go: our page on this server, as urimap.py maps it.
  function local(iri) {
    if (iri.indexOf(config.base) === 0) { return config.prefix + iri.slice(config.base.length); }
    if (iri === ontology || iri.indexOf(ontology + "#") === 0) { return "/ontology" + iri.slice(ontology.length); }
    return null;
  }

  // The table plugin writes each IRI as <a class='iri' href='IRI'>: point ours at our pages.
  var table = Yasgui.Yasr.plugins.table;
  var link = table.prototype.getUriLinkFromBinding;
  table.prototype.getUriLinkFromBinding = function (binding, prefixes) {
    var holder = document.createElement("template");
    holder.innerHTML = link.call(this, binding, prefixes);   // already sanitised by YASR (DOMPurify)
    holder.content.querySelectorAll("a.iri").forEach(function (a) {
      var iri = a.getAttribute("href"), path = local(iri);
      if (path !== null) { a.setAttribute("href", path); a.title = iri; }
    });
    return holder.innerHTML;
  };
  table.defaults.openIriInNewWindow = false;

  // Only the completers that need no network: YASQE's class and property completers ask
  // lov.linkeddata.es. The defaults are replaced, not merged (a config array merges index by index).
  [Yasgui.Yasqe.defaults, Yasgui.defaults.yasqe].forEach(function (defaults) {
    defaults.autocompleters.splice(0, defaults.autocompleters.length, "prefixes", "variables");
  });

  var shared = new URLSearchParams(window.location.hash.slice(1)).get("query");
  // this page's own origin, whatever --public-url says: the CSP lets the page talk to no other
  var endpoint = window.location.origin + new URL(config.endpoint).pathname;
  var yasgui = new Yasgui(host, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,          // the address bar holds the query; nothing is kept between visits
    populateFromUrl: false,       // read below, so that a shared link also runs its query
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    // prefixCcApi: our own list (server/queryui.py), never YASQE's bundled one, whose tl: is another vocabulary
    yasqe: { value: shared || config.query, autocompleters: ["prefixes", "variables"], resizeable: true,
             editorHeight: "300px", prefixCcApi: config.prefixList },
    yasr: { prefixes: config.prefixes, defaultPlugin: "table", pluginOrder: ["table", "response"] }
  });

  // What YASGUI's markup lacks for screen readers and keyboards (axe-core, tests/test_browser.py):
  // names for its inputs, a focusable editor scroller. Re-applied whenever YASGUI redraws.
  function accessible() {
    var named = [[".yasqe textarea", "SPARQL query"], ["input.autocomplete", "SPARQL endpoint"],
                 ["select.tableSizer", "Results per page"]];
    named.forEach(function (pair) {
      host.querySelectorAll(pair[0]).forEach(function (el) {
        if (!el.hasAttribute("aria-label")) { el.setAttribute("aria-label", pair[1]); }
      });
    });
    host.querySelectorAll(".CodeMirror-scroll[tabindex='-1']").forEach(function (el) { el.setAttribute("tabindex", "0"); });
  }
  accessible();
  new MutationObserver(accessible).observe(host, { childList: true, subtree: true });

  var downloads = document.getElementById("downloads");
  function remember(query) {
    var q = "query=" + encodeURIComponent(query);
    window.history.replaceState(null, "", "/sparql#" + q);
    document.getElementById("share-link").href = "/sparql#" + q;
    document.getElementById("download-csv").href = "/sparql?" + q + "&format=csv";
    document.getElementById("download-json").href = "/sparql?" + q + "&format=json";
    downloads.hidden = false;
  }
  yasgui.on("query", function (instance, tab) { remember(tab.getQuery()); });

  document.querySelectorAll("a.example").forEach(function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      var tab = yasgui.getTab();
      tab.setQuery(a.dataset.query);
      tab.setName(a.dataset.name);
      tab.query();
      host.scrollIntoView({ block: "start" });
    });
  });
  function runShared() {
    var query = new URLSearchParams(window.location.hash.slice(1)).get("query");
    if (query) { var tab = yasgui.getTab(); tab.setQuery(query); tab.query(); }
  }
  // a shared link opened on this page already changes only the part after '#'
  window.addEventListener("hashchange", runShared);
  if (shared) { yasgui.getTab().query(); }
  window.tieslodYasgui = yasgui;   // for the browser tests and for whoever wants to script the page
}());
