// Admin service page while an action is queued or running (e.g. just after Services → Add):
// poll the service's status.json every 1.5 s while the tab is visible and update the status and
// pending-action fields in place; once nothing is in flight, fetch this page again and swap its
// #content-main in (no reload), then start the VPN tab's scripts on it (loaded, idle, from the
// start). Loaded with defer (CSP: no inline script).
(function () {
  "use strict";

  var INTERVAL_MS = 1500;
  var CONTAINER_ID = "content-main";
  var BLOCK_SCRIPTS = ["connectionStatus", "configs", "serviceAdminTab"];
  var marker = document.getElementById("service-status-live");
  if (!marker) {
    return;
  }
  var url = marker.getAttribute("data-status-url");
  var timer = null;
  var inFlight = false;
  var finished = false;

  // Read-only admin fields render as <div class="readonly"> inside .field-<name>.
  function setField(name, className, text) {
    document.querySelectorAll(".field-" + name + " .readonly").forEach(function (cell) {
      var value = document.createTextNode(text);
      if (className) {
        var span = document.createElement("span");
        span.className = className;
        span.appendChild(value);
        value = span;
      }
      cell.replaceChildren(value);
    });
  }

  function startBlocks(root) {
    var portal = window.Portal || {};
    BLOCK_SCRIPTS.forEach(function (name) {
      if (portal[name]) {
        portal[name].init(root);
      }
    });
  }

  function swapInFreshPage() {
    return fetch(window.location.pathname, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var fresh = parsed.getElementById(CONTAINER_ID);
        var current = document.getElementById(CONTAINER_ID);
        if (!fresh || !current) {
          window.location.reload();
          return;
        }
        fresh.querySelectorAll("noscript").forEach(function (node) {
          node.remove();
        });
        var node = document.adoptNode(fresh);
        current.replaceWith(node);
        startBlocks(node);
      });
  }

  function apply(data) {
    if (!data || typeof data.status !== "string") {
      return null;
    }
    setField("status_display", "status-pill status-" + data.status, data.status_label);
    if (data.pending) {
      setField("pending_display", "action-" + data.pending_state, data.pending);
    } else {
      setField("pending_display", "", "—");
    }
    if (data.in_flight) {
      return null;
    }
    finished = true;
    return swapInFreshPage().catch(function () {
      finished = false; // try again on the next tick
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!finished && !document.hidden) {
      timer = window.setTimeout(poll, INTERVAL_MS);
    }
  }

  function poll() {
    if (inFlight || finished || document.hidden) {
      return;
    }
    inFlight = true;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(apply)
      .catch(function () {
        // A failed poll is retried on the next tick.
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
