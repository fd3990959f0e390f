// Admin service tab: View <protocol> toggles its config panel, × closes it, Download saves the
// config already on the page as a file (Blob; no second panel call). Copy is portal/configs.js,
// the status block portal/connection_status.js. Loaded with defer (CSP: no inline script).
// Portal.serviceAdminTab.init(root) binds the buttons in root (the document on load; the page
// portal/service_admin_status.js swaps in once a service is set up), each button once.
(function () {
  "use strict";

  var bound = new WeakSet();

  function each(root, selector, bind) {
    root.querySelectorAll(selector).forEach(function (element) {
      if (!bound.has(element)) {
        bound.add(element);
        bind(element);
      }
    });
  }

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

  function init(root) {
    each(root, "[data-vpn-view]", function (button) {
      button.addEventListener("click", function () {
        var protocol = button.getAttribute("data-vpn-view");
        var panel = panelFor(protocol);
        show(protocol, panel ? panel.hidden : false);
      });
    });
    each(root, "[data-vpn-close]", function (button) {
      button.addEventListener("click", function () {
        var protocol = button.getAttribute("data-vpn-close");
        show(protocol, false);
        var opener = buttonFor(protocol);
        if (opener) {
          opener.focus();
        }
      });
    });
    each(root, "[data-vpn-download]", function (button) {
      button.addEventListener("click", function () {
        download(button);
      });
    });
    // Greyed buttons (protocol off on the network) do nothing; their title says why.
    each(root, ".vpn-view--off", function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
      });
    });
  }

  var portal = (window.Portal = window.Portal || {});
  portal.serviceAdminTab = { init: init };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }
})();
