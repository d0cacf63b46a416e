/* The run review page: follow a computing run's progress, then draw the distribution charts. */
(function () {
  "use strict";
  var bar = document.getElementById("run-progress");
  if (bar) {
    var text = document.getElementById("run-progress-text");
    var poll = function () {
      fetch(bar.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          bar.value = data.progress;
          if (text) { text.textContent = data.progress + "%"; }
          if (data.status !== "computing") { window.location.reload(); return; }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  }

  var source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var draw = function (id, part) {
    var canvas = document.getElementById(id);
    if (!canvas || !part.labels.length) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: part.labels,
        datasets: [
          { label: data.cartons, data: part.cartons, backgroundColor: "#d97706" },
          { label: data.awarded, data: part.awarded, backgroundColor: "#2563eb" }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  };
  draw("chart-star", data.star);
  draw("chart-route", data.route);
})();
