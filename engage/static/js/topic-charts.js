// Draws the topic run's charts with the locally served Plotly. The figures come in a
// <script type="application/json"> block: no inline script, so the page keeps its CSP.
(function () {
  "use strict";
  var data = document.getElementById("topic-charts");
  if (!data || typeof window.Plotly === "undefined") { return; }
  var charts = JSON.parse(data.textContent);
  Object.keys(charts).forEach(function (name) {
    var el = document.querySelector('[data-chart="' + name + '"]');
    if (!el) { return; }
    var figure = charts[name].figure || {};
    var layout = figure.layout || {};
    // No mode bar: it colours itself with injected <style> rules, which the CSP refuses.
    // Drag to zoom and double-click to reset still work.
    window.Plotly.newPlot(el, figure.data || [], layout, {
      responsive: true, displaylogo: false, displayModeBar: false
    });
  });
})();
