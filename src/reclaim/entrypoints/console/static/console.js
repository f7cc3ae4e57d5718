// Reclaim console: the little the pages need beyond htmx. No inline scripts (the CSP allows
// only files from /console/static), no eval.
(function () {
  "use strict";

  // A <select data-autosubmit> sends its form when changed (the language switch, filters).
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.matches && el.matches("[data-autosubmit]") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });

  // A form or button with data-confirm asks first (the text is the page's, translated).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var btn = e.submitter;
    var text = (btn && btn.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) { e.preventDefault(); }
  });

  // Charts: <canvas data-chart="ID"> drawn from <script type="application/json" id="ID">
  // holding Chart.js's {type, data, options}. Numbers stay in the page for screen readers
  // (each chart sits beside a table or a figure caption with the same figures).
  var palette = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#64748b"];
  function draw(root) {
    if (typeof window.Chart === "undefined") { return; }
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      (spec.data.datasets || []).forEach(function (d, i) {
        if (!d.backgroundColor) { d.backgroundColor = spec.type === "line" ? palette[i % 7] + "33" : palette[i % 7]; }
        if (!d.borderColor) { d.borderColor = palette[i % 7]; }
      });
      spec.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, spec.options || {});
      new window.Chart(canvas, spec);
      canvas.dataset.drawn = "1";
    });
  }
  function loadCharts() {
    if (!document.querySelector("canvas[data-chart]")) { return; }
    if (typeof window.Chart !== "undefined") { draw(); return; }
    var s = document.createElement("script");
    s.src = "/console/static/vendor/chart.umd.min.js";
    s.onload = function () { draw(); };
    document.head.appendChild(s);
  }
  document.addEventListener("DOMContentLoaded", loadCharts);
  document.addEventListener("htmx:afterSwap", function (e) { loadCharts(); draw(e.target); });
})();
