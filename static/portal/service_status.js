// Setup progress on the service page: poll status.json every 2 s while the tab is visible and
// move the steps and status pills along in place. Once the service has left pending/provisioning,
// fetch this page again and swap its #service-main in (no reload), then start the blocks it
// brought (Portal.connectionStatus, Portal.configs: their scripts are loaded, idle, from the
// start). Loaded with defer (CSP: no inline script).
(function () {
  "use strict";

  var INTERVAL_MS = 2000;
  var CONTAINER_ID = "service-main";
  var BLOCK_SCRIPTS = ["connectionStatus", "configs"];
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

  function markPills(status, text) {
    document.querySelectorAll("[data-role=status-pill]").forEach(function (pill) {
      pill.className = "pill pill--" + status;
      pill.textContent = text;
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!finished && !document.hidden) {
      timer = window.setTimeout(poll, INTERVAL_MS);
    }
  }

  function startBlocks(root) {
    var portal = window.Portal || {};
    BLOCK_SCRIPTS.forEach(function (name) {
      if (portal[name]) {
        portal[name].init(root);
      }
    });
  }

  // The page as the server renders it now, parsed (never executed: DOMParser runs no script).
  function swapInFreshPage() {
    return fetch(window.location.pathname + window.location.search, {
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
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(CONTAINER_ID);
        var current = document.getElementById(CONTAINER_ID);
        if (!fresh || !current) {
          // Not the service page (e.g. the login page after the session ended): load it properly.
          window.location.reload();
          return;
        }
        // The parser ran without scripting, so <noscript> content would show: drop it.
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
    var text = typeof data.label === "string" ? data.label : data.status;
    if (label) {
      label.textContent = text;
    }
    markSteps(data.status);
    markPills(data.status, text);
    if (!data.done) {
      return null;
    }
    finished = true;
    return swapInFreshPage().catch(function () {
      finished = false; // the page could not be fetched: poll on and try again next tick
    });
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
