// Service page configs: copy to the clipboard, and a lightbox for the QR codes.
// No markup is built from strings: text goes through textContent/value only (strict CSP page).
// Portal.configs.init(root) binds the buttons in root (the document on load; a subtree swapped in
// by service_status.js later); an element already bound is skipped.
(function () {
  "use strict";

  var FEEDBACK_MS = 2000;
  var bound = new WeakSet();

  // Each element once, however often init runs over it.
  function each(root, selector, bind) {
    root.querySelectorAll(selector).forEach(function (node) {
      if (!bound.has(node)) {
        bound.add(node);
        bind(node);
      }
    });
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "vpn-offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  function feedback(button, label, state) {
    if (!button.dataset.label) {
      button.dataset.label = button.textContent;
    }
    button.textContent = label;
    button.dataset.state = state;
    window.clearTimeout(Number(button.dataset.timer || 0));
    button.dataset.timer = String(
      window.setTimeout(function () {
        button.textContent = button.dataset.label;
        delete button.dataset.state;
      }, FEEDBACK_MS)
    );
  }

  function onCopy(event) {
    var button = event.currentTarget;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) {
      return;
    }
    copyText(source.textContent).then(
      function () {
        feedback(button, "Copied!", "copied");
      },
      function () {
        feedback(button, "Copy failed", "failed");
      }
    );
  }

  function setUpLightbox(dialog) {
    var image = dialog.querySelector(".vpn-lightbox__image");
    var closeButton = dialog.querySelector("[data-lightbox-close]");
    var opener = null;

    function close() {
      if (dialog.open) {
        dialog.close();
      }
    }

    dialog.addEventListener("close", function () {
      image.removeAttribute("src");
      if (opener) {
        opener.focus();
        opener = null;
      }
    });
    // A click on the backdrop (the dialog itself, not its content) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) {
        close();
      }
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    closeButton.addEventListener("click", close);

    return function open(button) {
      var thumb = button.querySelector("img");
      if (!thumb) {
        return;
      }
      // Only data: PNGs rendered by the server ever get here; src is an attribute, not markup.
      image.src = thumb.getAttribute("src");
      image.alt = thumb.alt + ", enlarged";
      opener = button;
      dialog.showModal();
      closeButton.focus();
    };
  }

  function init(root) {
    root = root || document;
    each(root, "[data-copy-target]", function (button) {
      button.addEventListener("click", onCopy);
    });
    each(root, "#vpn-lightbox", function (dialog) {
      var open = setUpLightbox(dialog);
      each(root, "[data-lightbox]", function (button) {
        button.addEventListener("click", function () {
          open(button);
        });
      });
    });
  }

  var portal = (window.Portal = window.Portal || {});
  portal.configs = { init: init };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }
})();
