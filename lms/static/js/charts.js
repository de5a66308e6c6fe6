// Bar charts from JSON data blocks (no inline script: the CSP forbids it).
// Every chart has the same numbers in a table next to it, and its canvas has
// role="img" with a label that says so: the chart is a picture of the table.
//
// Charts drawn here, each a <canvas id="X"> with a <script type="application/json"
// id="X-data"> beside it:
//   module-chart        {labels, started, completed, startedLabel, completedLabel}
//                       horizontal bars, two per module (course statistics)
//   distribution-chart  {labels, attempts, label}
//                       vertical bars, one per score band (quiz statistics)
//   coverage-chart      {labels, coverage, enrolled, coverageLabel, enrolledLabel}
//                       horizontal bars, two per region, in percent (reports home)
//   survey-chart-…      {labels, counts, label}, any number of them
//                       horizontal bars, one per point of a scale question (survey results)
//
// Sizes are set through the CSSOM (element.style), which the CSP allows;
// style="" attributes in the markup are what it forbids.
(function () {
  "use strict";

  // Bootstrap Italia's colours. The light bars have a dark border, so every bar
  // stands out from the white background (3:1), and the two series differ in
  // lightness as well as in hue (not by colour alone).
  var BLUE = "#0066cc";
  var LIGHT_BLUE = "#b3d1f0";
  var GREEN = "#008055";
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

  // A long label as lines of at most `width` characters (Chart.js draws an
  // array as several lines).
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

  function setDefaults() {
    Chart.defaults.font.family = '"Titillium Web", Geneva, Tahoma, sans-serif';
    Chart.defaults.font.size = 14;
    Chart.defaults.color = TEXT;
    Chart.defaults.borderColor = GRID;
    Chart.defaults.animation = false;
    Chart.defaults.plugins.legend.labels.boxWidth = 18;
    Chart.defaults.plugins.legend.labels.boxHeight = 18;
    Chart.defaults.plugins.legend.labels.padding = 16;
  }

  // One series of bars, with a 2px border.
  function series(label, values, fill, border) {
    return {
      label: label, data: values,
      backgroundColor: fill, borderColor: border, borderWidth: 2
    };
  }

  // Horizontal bars, a group of series per label, the legend above them (the
  // module and coverage charts). tooltip: Chart.js tooltip callbacks; x: the
  // value axis.
  function horizontalBars(canvas, labels, datasets, tooltip, x) {
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { position: "top", align: "start" },
          tooltip: { callbacks: tooltip }
        },
        scales: {
          x: x,
          y: { ticks: { autoSkip: false }, grid: { display: false } }
        }
      }
    });
  }

  function moduleChart() {
    var canvas = document.getElementById("module-chart");
    var data = canvas && readData("module-chart");
    if (!data) { return; }
    var narrow = canvas.parentNode.clientWidth < 576;
    var labelWidth = narrow ? 16 : 32;
    var labels = data.labels.map(function (label) { return wrap(label, labelWidth); });
    var lines = labels.reduce(function (most, l) { return Math.max(most, l.length); }, 1);
    // Room for each module's two bars and its label's lines, plus legend and axis.
    var perModule = Math.max(narrow ? 52 : 64, 18 * lines + 16);
    canvas.parentNode.style.height = (labels.length * perModule + 110) + "px";
    horizontalBars(canvas, labels, [
      series(data.startedLabel, data.started, LIGHT_BLUE, BLUE),
      series(data.completedLabel, data.completed, GREEN, GREEN)
    ], {
      // The whole module title, not the wrapped lines.
      title: function (items) {
        return items.length ? data.labels[items[0].dataIndex] : "";
      }
    }, { beginAtZero: true, ticks: { precision: 0 } });
  }

  function distributionChart() {
    var canvas = document.getElementById("distribution-chart");
    var data = canvas && readData("distribution-chart");
    if (!data) { return; }
    canvas.parentNode.style.height = "320px";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.label, data: data.attempts, backgroundColor: BLUE, borderColor: BLUE, borderWidth: 1 }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          x: { grid: { display: false } }
        }
      }
    });
  }

  function coverageChart() {
    var canvas = document.getElementById("coverage-chart");
    var data = canvas && readData("coverage-chart");
    if (!data) { return; }
    canvas.parentNode.style.height = (data.labels.length * 44 + 110) + "px";
    // The pages' format (lms/core/filters.py format_pct): "74,4 %" in Italian, "74.4%" in English.
    var lang = document.documentElement.lang || "it";
    var sign = lang.indexOf("en") === 0 ? "%" : "\u00a0%";
    var share = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    var whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    var percent = function (value) { return share.format(value) + sign; };
    var tick = function (value) { return whole.format(value) + sign; };
    horizontalBars(canvas, data.labels, [
      series(data.coverageLabel, data.coverage, GREEN, GREEN),
      series(data.enrolledLabel, data.enrolled, LIGHT_BLUE, BLUE)
    ], {
      label: function (item) {
        var value = item.raw === null ? "–" : percent(item.raw);
        return item.dataset.label + ": " + value;
      }
    }, { beginAtZero: true, max: 100, ticks: { callback: tick } });
  }

  function surveyChart(canvas) {
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
              // The whole point's label, not the wrapped lines.
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
    setDefaults();
    moduleChart();
    distributionChart();
    coverageChart();
    Array.prototype.forEach.call(
      document.querySelectorAll("canvas[id^='survey-chart-']"), surveyChart
    );
  }

  // Canvas text does not wait for web fonts: load the page's font first.
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
