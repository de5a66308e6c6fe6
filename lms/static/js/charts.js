// Bar charts from JSON data blocks (no inline script: the CSP forbids it).
// Every chart has the same numbers in a table next to it.
(function () {
  "use strict";
  function moduleChart() {
    var canvas = document.getElementById("module-chart");
    var source = document.getElementById("module-chart-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.startedLabel, data: data.started, backgroundColor: "#0066cc" },
          { label: data.completedLabel, data: data.completed, backgroundColor: "#008055" }
        ]
      },
      options: {
        indexAxis: "y",
        animation: false,
        responsive: true,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", moduleChart);
})();
