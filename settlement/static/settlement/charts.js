/* Draws every <canvas data-chart="ID"> from the JSON in <script id="ID"> (json_script).
   The JSON: {type, labels, datasets: [{label, data, dashed, axis}], stacked, horizontal,
   percent}; a dataset with axis "right" is read on a second scale. */
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var palette = ["#2563eb", "#9ca3af", "#16a34a", "#d97706", "#dc2626", "#7c3aed"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.datasets.map(function (d, i) {
      var color = d.dashed ? "#b91c1c" : palette[i % palette.length];
      return {
        label: d.label, data: d.data, backgroundColor: color, borderColor: color,
        borderDash: d.dashed ? [4, 4] : [], pointRadius: d.dashed ? 0 : 2, spanGaps: true,
        yAxisID: d.axis === "right" ? "y1" : "y"
      };
    });
    var value = spec.horizontal ? "x" : "y";
    var scales = {x: {stacked: !!spec.stacked}, y: {stacked: !!spec.stacked}};
    if (spec.datasets.some(function (d) { return d.axis === "right"; })) {
      scales.y1 = {position: "right", grid: {drawOnChartArea: false}};
    }
    if (spec.percent) {
      scales[value].ticks = {callback: function (v) { return v + "%"; }};
      if (spec.stacked) { scales[value].max = 100; }
    }
    new Chart(canvas, {
      type: spec.type,
      data: {labels: spec.labels, datasets: datasets},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x", scales: scales,
        plugins: {legend: {labels: {boxWidth: 12}}}
      }
    });
  });
})();
