// The bar charts of a survey's results (no inline script: the CSP forbids it).
// Each scale question's results are a <canvas id="survey-chart-…" role="img"> with
// a <script type="application/json" id="survey-chart-…-data"> beside it holding
// {labels, counts, label}: one horizontal bar per point of the scale. The same
// numbers are in the table that follows each chart; the canvas's label says so.
(function () {
  "use strict";

  var BLUE = "#0066cc";
  var TEXT = "#1a1a1a";
  var GRID = "#d9dee3";

  function readData(id) {
    var source = document.getElementById(id + "-data");
    if (!source) { return null; }
    try {
      return JSON.parse(source.textContent);
    } catch (e) {
      return null;
    }
  }

  // A long label as lines of at most `width` characters.
  function wrap(text, width) {
    var words = String(text).split(/\s+/);
    var lines = [];
    var line = "";
    words.forEach(function (word) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) { lines.push(line); }
    return lines;
  }

  function drawOne(canvas) {
    var data = readData(canvas.id);
    if (!data) { return; }
    var narrow = canvas.parentNode.clientWidth < 576;
    var labels = data.labels.map(function (label) { return wrap(label, narrow ? 18 : 30); });
    var lines = labels.reduce(function (most, l) { return Math.max(most, l.length); }, 1);
    var perPoint = Math.max(36, 18 * lines + 12);
    canvas.parentNode.style.height = (labels.length * perPoint + 60) + "px";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [{
          label: data.label, data: data.counts,
          backgroundColor: BLUE, borderColor: BLUE, borderWidth: 1
        }]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? data.labels[items[0].dataIndex] : "";
              }
            }
          }
        },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { ticks: { autoSkip: false }, grid: { display: false } }
        }
      }
    });
  }

  function draw() {
    if (typeof Chart === "undefined") { return; }
    Chart.defaults.font.family = '"Titillium Web", Geneva, Tahoma, sans-serif';
    Chart.defaults.font.size = 14;
    Chart.defaults.color = TEXT;
    Chart.defaults.borderColor = GRID;
    Chart.defaults.animation = false;
    Array.prototype.forEach.call(
      document.querySelectorAll("canvas[id^='survey-chart-']"), drawOne
    );
  }

  function init() {
    if (document.fonts && document.fonts.load) {
      document.fonts.load('14px "Titillium Web"').then(draw, draw);
    } else {
      draw();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
