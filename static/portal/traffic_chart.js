// Traffic statistics page: load traffic.json for the chosen month (on load and on Load) and draw
// a Chart.js line chart per day (download blue, upload green) with the two totals below.
// Without JavaScript the Year/Month form still works as a plain GET. Loaded with defer after
// vendor/chart.umd.min.js and portal/format.js (CSP: no inline script or style; Chart.js styles
// the canvas via CSSOM).
(function () {
  "use strict";

  var section = document.getElementById("traffic-statistics");
  if (!section || !section.getAttribute("data-traffic-url")) {
    return;
  }
  var url = section.getAttribute("data-traffic-url");
  var form = document.getElementById("traffic-form");
  var yearSelect = document.getElementById("traffic-year");
  var monthSelect = document.getElementById("traffic-month");
  var loadButton = document.getElementById("traffic-load");
  var errorBox = document.getElementById("traffic-error");
  var chartBox = document.getElementById("traffic-chart");
  var canvas = document.getElementById("traffic-canvas");
  var placeholder = chartBox.querySelector("[data-role=placeholder]");
  var totalDownload = document.getElementById("traffic-total-download");
  var totalUpload = document.getElementById("traffic-total-upload");

  var DOWNLOAD = { line: "#1d5fd1", fill: "rgba(29, 95, 209, 0.18)" };
  var UPLOAD = { line: "#1e7c3b", fill: "rgba(30, 124, 59, 0.18)" };
  var formatBytes = window.Portal.format.bytes;
  var chart = null;
  var request = 0;

  function tickLabel(value) {
    // Axis ticks: no trailing zeros ("1.5 GB", "2 GB").
    return formatBytes(value).replace(/(\.\d*?)0+ /, "$1 ").replace(/\. /, " ");
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
  }

  function setBusy(busy) {
    loadButton.disabled = busy;
    section.setAttribute("aria-busy", busy ? "true" : "false");
    chartBox.classList.toggle("traffic-chart--busy", busy);
  }

  function monthName() {
    var option = monthSelect.options[monthSelect.selectedIndex];
    return option ? option.textContent : "";
  }

  function draw(data) {
    var labels = [];
    var downloads = [];
    var uploads = [];
    var dates = [];
    data.days.forEach(function (day) {
      dates.push(day.date);
      labels.push(String(Number(day.date.slice(8, 10))));
      downloads.push(day.download);
      uploads.push(day.upload);
    });
    totalDownload.textContent = formatBytes(data.total_download);
    totalUpload.textContent = formatBytes(data.total_upload);

    if (!data.days.length) {
      placeholder.textContent = "No traffic recorded for " + monthName() + " " + data.year + ".";
      placeholder.hidden = false;
    } else {
      placeholder.hidden = true;
    }
    canvas.hidden = false;

    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = downloads;
      chart.data.datasets[1].data = uploads;
      chart.$trafficDates = dates;
      chart.update();
      return;
    }
    chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          {
            label: "Download",
            data: downloads,
            borderColor: DOWNLOAD.line,
            backgroundColor: DOWNLOAD.fill,
            pointBackgroundColor: DOWNLOAD.line,
            fill: "origin",
            cubicInterpolationMode: "monotone",
          },
          {
            label: "Upload",
            data: uploads,
            borderColor: UPLOAD.line,
            backgroundColor: UPLOAD.fill,
            pointBackgroundColor: UPLOAD.line,
            fill: "origin",
            cubicInterpolationMode: "monotone",
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { title: { display: true, text: "Day" } },
          y: {
            beginAtZero: true,
            ticks: { callback: tickLabel },
          },
        },
        plugins: {
          legend: { position: "top" },
          tooltip: {
            callbacks: {
              title: function (items) {
                var dates = chart && chart.$trafficDates;
                return items.length && dates ? dates[items[0].dataIndex] : "";
              },
              label: function (item) {
                return item.dataset.label + ": " + formatBytes(item.parsed.y);
              },
            },
          },
        },
      },
    });
    chart.$trafficDates = dates;
  }

  function load() {
    var year = yearSelect.value;
    var month = monthSelect.value;
    var mine = ++request;
    setBusy(true);
    clearError();
    var query = "?year=" + encodeURIComponent(year) + "&month=" + encodeURIComponent(month);
    fetch(url + query, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (!response.ok || !data || !Array.isArray(data.days)) {
              var message = data && data.error;
              throw new Error(message || "Traffic statistics could not be loaded. Please try again.");
            }
            return data;
          });
      })
      .then(function (data) {
        if (mine !== request) {
          return;
        }
        draw(data);
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", window.location.pathname + query);
        }
      })
      .catch(function (error) {
        if (mine !== request) {
          return;
        }
        var offline = error instanceof TypeError;
        showError(
          offline
            ? "Traffic statistics could not be loaded. Check your connection and try again."
            : error.message
        );
      })
      .then(function () {
        if (mine === request) {
          setBusy(false);
        }
      });
  }

  if (typeof window.Chart !== "function") {
    // The chart library failed to load: keep the plain form working, say why there is no chart.
    showError("The traffic chart could not be loaded. Please reload the page.");
    return;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });
  load();
})();
