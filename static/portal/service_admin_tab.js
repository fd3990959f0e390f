// Admin service tab: View <protocol> toggles its config panel, × closes it, Download saves the
// config already on the page as a file (Blob; no second panel call). Copy is portal/configs.js,
// the status block portal/connection_status.js. Loaded with defer (CSP: no inline script).
(function () {
  "use strict";

  function panelFor(protocol) {
    return document.getElementById("vpn-panel-" + protocol);
  }

  function buttonFor(protocol) {
    return document.querySelector('[data-vpn-view="' + protocol + '"]');
  }

  function show(protocol, open) {
    var panel = panelFor(protocol);
    var button = buttonFor(protocol);
    if (!panel) {
      return;
    }
    panel.hidden = !open;
    if (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.classList.toggle("vpn-view--open", open);
    }
  }

  function download(button) {
    var source = document.getElementById(button.getAttribute("data-vpn-download"));
    if (!source) {
      return;
    }
    var blob = new Blob([source.textContent], {
      type: button.getAttribute("data-content-type") || "text/plain",
    });
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = button.getAttribute("data-filename") || "vpn.conf";
    link.className = "vpn-offscreen";
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    window.setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
  }

  function init() {
    document.querySelectorAll("[data-vpn-view]").forEach(function (button) {
      button.addEventListener("click", function () {
        var protocol = button.getAttribute("data-vpn-view");
        var panel = panelFor(protocol);
        show(protocol, panel ? panel.hidden : false);
      });
    });
    document.querySelectorAll("[data-vpn-close]").forEach(function (button) {
      button.addEventListener("click", function () {
        var protocol = button.getAttribute("data-vpn-close");
        show(protocol, false);
        var opener = buttonFor(protocol);
        if (opener) {
          opener.focus();
        }
      });
    });
    document.querySelectorAll("[data-vpn-download]").forEach(function (button) {
      button.addEventListener("click", function () {
        download(button);
      });
    });
    // Greyed buttons (protocol off on the network) do nothing; their title says why.
    document.querySelectorAll(".vpn-view--off").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
