// Admin dashboard: one Chart.js chart per panel of its calls over the last 24 hours, by hour —
// average latency (line, ms) and calls and failures (bars). The data comes from the page
// (json_script "dashboard-panel-activity"); loaded with defer after vendor/chart.umd.min.js
// (CSP: no inline script; Chart.js sizes the canvas through CSSOM).
(function () {
  "use strict";

  var source = document.getElementById("dashboard-panel-activity");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var LATENCY = "#1d5fd1";
  var CALLS = "rgba(120, 120, 120, 0.35)";
  var FAILURES = "#ba2121";

  function draw(canvas, panel) {
    return new window.Chart(canvas, {
      data: {
        labels: data.hours,
        datasets: [
          {
            type: "line",
            label: "Average latency (ms)",
            data: panel.avg_ms,
            yAxisID: "ms",
            borderColor: LATENCY,
            backgroundColor: LATENCY,
            pointRadius: 2,
            spanGaps: false,
          },
          {
            type: "bar",
            label: "Calls",
            data: panel.calls,
            yAxisID: "calls",
            backgroundColor: CALLS,
          },
          {
            type: "bar",
            label: "Failures",
            data: panel.failures,
            yAxisID: "calls",
            backgroundColor: FAILURES,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { labels: { boxWidth: 12 } } },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkipPadding: 8 } },
          ms: { position: "left", beginAtZero: true, title: { display: true, text: "ms" } },
          calls: {
            position: "right",
            beginAtZero: true,
            ticks: { precision: 0 },
            grid: { drawOnChartArea: false },
            title: { display: true, text: "calls" },
          },
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-panel-id]").forEach(function (canvas) {
    var panel = data.panels[canvas.getAttribute("data-panel-id")];
    if (panel) {
      draw(canvas, panel);
    }
  });
})();
