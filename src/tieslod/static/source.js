// Light up every segment of the evidence span named in the URL fragment (a span may be cut into
// several <mark>s where other spans overlap it), and scroll it into view.
(function () {
  "use strict";
  function light() {
    var id = decodeURIComponent(location.hash.slice(1));
    Array.prototype.forEach.call(document.querySelectorAll("mark.current"), function (m) { m.classList.remove("current"); });
    if (!id) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("mark.ev"), function (m) {
      if ((" " + m.dataset.spans + " ").indexOf(" " + id + " ") >= 0) { m.classList.add("current"); }
    });
  }
  window.addEventListener("hashchange", light);
  light();
})();
