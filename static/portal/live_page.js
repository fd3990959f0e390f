// A page that watches its own state (the customer's setup progress, the admin's service page
// while an action runs): poll a JSON url every intervalMs while the tab is visible and hand each
// answer to onData; once onData says the wait is over, fetch this page again and swap its
// container in (no reload), then start the block scripts it brought (their files are loaded,
// idle, from the start). Portal.livePage.watch(options). Loaded with defer (CSP: no inline script).
(function () {
  "use strict";

  // The page as the server renders it now, parsed (never executed: DOMParser runs no script).
  function swapInFreshPage(containerId, blocks) {
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
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var fresh = parsed.getElementById(containerId);
        var current = document.getElementById(containerId);
        if (!fresh || !current) {
          // Not this page any more (e.g. the login page after the session ended): load it.
          window.location.reload();
          return;
        }
        // The parser ran without scripting, so <noscript> content would show: drop it.
        fresh.querySelectorAll("noscript").forEach(function (node) {
          node.remove();
        });
        var node = document.adoptNode(fresh);
        current.replaceWith(node);
        var portal = window.Portal || {};
        blocks.forEach(function (name) {
          if (portal[name]) {
            portal[name].init(node);
          }
        });
      });
  }

  // options: url, intervalMs, containerId, blocks (names under window.Portal), onData(data) →
  // true once the page should be swapped for its fresh rendering.
  function watch(options) {
    var timer = null;
    var inFlight = false;
    var finished = false;

    function schedule() {
      window.clearTimeout(timer);
      if (!finished && !document.hidden) {
        timer = window.setTimeout(poll, options.intervalMs);
      }
    }

    function apply(data) {
      if (!data || !options.onData(data)) {
        return null;
      }
      finished = true;
      return swapInFreshPage(options.containerId, options.blocks).catch(function () {
        finished = false; // the page could not be fetched: poll on and try again next tick
      });
    }

    function poll() {
      if (inFlight || finished || document.hidden) {
        return;
      }
      inFlight = true;
      fetch(options.url, {
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
  }

  var portal = (window.Portal = window.Portal || {});
  portal.livePage = { watch: watch };
})();
