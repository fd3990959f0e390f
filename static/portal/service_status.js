// Setup progress on the service page: poll status.json every 2 s while the tab is visible and
// reload the page once the service has left pending/provisioning. Loaded with defer (CSP: no
// inline script).
(function () {
  "use strict";

  var INTERVAL_MS = 2000;
  var block = document.getElementById("setup-progress");
  if (!block) {
    return;
  }
  var url = block.getAttribute("data-status-url");
  var label = block.querySelector("[data-role=label]");
  var timer = null;
  var inFlight = false;
  var finished = false;

  function markSteps(status) {
    var items = block.querySelectorAll("[data-step]");
    var position = -1;
    items.forEach(function (item, index) {
      if (item.getAttribute("data-step") === status) {
        position = index;
      }
    });
    if (position < 0) {
      return;
    }
    items.forEach(function (item, index) {
      var state = index < position ? "done" : index === position ? "current" : "todo";
      item.className = "steps__item steps__item--" + state;
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!finished && !document.hidden) {
      timer = window.setTimeout(poll, INTERVAL_MS);
    }
  }

  function apply(data) {
    if (!data || typeof data.status !== "string") {
      return;
    }
    if (label && typeof data.label === "string") {
      label.textContent = data.label;
    }
    markSteps(data.status);
    if (data.done) {
      finished = true;
      window.location.reload();
    }
  }

  function poll() {
    if (inFlight || finished || document.hidden) {
      return;
    }
    inFlight = true;
    fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(apply)
      .catch(function () {
        // A failed poll is retried on the next tick; the page never breaks over it.
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearTimeout(timer);
    } else {
      poll();
    }
  });
  schedule();
})();
