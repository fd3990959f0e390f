// Service page configs: copy to the clipboard, and a lightbox for the QR codes.
// No markup is built from strings: text goes through textContent/value only (strict CSP page).
(function () {
  "use strict";

  var FEEDBACK_MS = 2000;

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

  function setUpLightbox() {
    var dialog = document.getElementById("vpn-lightbox");
    if (!dialog) {
      return;
    }
    var image = dialog.querySelector(".vpn-lightbox__image");
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
    dialog.querySelector("[data-lightbox-close]").addEventListener("click", close);

    document.querySelectorAll("[data-lightbox]").forEach(function (button) {
      button.addEventListener("click", function () {
        var thumb = button.querySelector("img");
        if (!thumb) {
          return;
        }
        // Only data: PNGs rendered by the server ever get here; src is an attribute, not markup.
        image.src = thumb.getAttribute("src");
        image.alt = thumb.alt + ", enlarged";
        opener = button;
        dialog.showModal();
        dialog.querySelector("[data-lightbox-close]").focus();
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", onCopy);
    });
    setUpLightbox();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
