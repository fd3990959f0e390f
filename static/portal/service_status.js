// Setup progress on the service page: every 2 s (Portal.livePage) move the steps and status pills
// along in place; once the service has left pending/provisioning, the page swaps its
// #service-main for a fresh one and starts Portal.connectionStatus and Portal.configs on it.
(function () {
  "use strict";

  var block = document.getElementById("setup-progress");
  if (!block) {
    return;
  }
  var label = block.querySelector("[data-role=label]");

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

  window.Portal.livePage.watch({
    url: block.getAttribute("data-status-url"),
    intervalMs: 2000,
    containerId: "service-main",
    blocks: ["connectionStatus", "configs"],
    onData: function (data) {
      if (typeof data.status !== "string") {
        return false;
      }
      var text = typeof data.label === "string" ? data.label : data.status;
      if (label) {
        label.textContent = text;
      }
      markSteps(data.status);
      markPills(data.status, text);
      return Boolean(data.done);
    },
  });
})();
