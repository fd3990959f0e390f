// Admin service page while an action is queued or running (e.g. just after Services → Add):
// every 1.5 s (Portal.livePage) update the status and pending-action fields in place; once
// nothing is in flight, the page swaps its #content-main for a fresh one and starts the VPN
// tab's scripts on it.
(function () {
  "use strict";

  var marker = document.getElementById("service-status-live");
  if (!marker) {
    return;
  }

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

  window.Portal.livePage.watch({
    url: marker.getAttribute("data-status-url"),
    intervalMs: 1500,
    containerId: "content-main",
    blocks: ["connectionStatus", "configs", "serviceAdminTab"],
    onData: function (data) {
      if (typeof data.status !== "string") {
        return false;
      }
      setField("status_display", "status-pill status-" + data.status, data.status_label);
      if (data.pending) {
        setField("pending_display", "action-" + data.pending_state, data.pending);
      } else {
        setField("pending_display", "", "—");
      }
      return !data.in_flight;
    },
  });
})();
