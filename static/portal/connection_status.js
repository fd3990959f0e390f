// Live "Connection status" block of the service page (provisioning/api.py connection_status).
//
// Polls the block's data-url every poll_seconds (from the JSON, default 5) while the tab is
// visible; paused when it is hidden and resumed, with an immediate fetch, when it is shown again.
// The Refresh button forces a fetch at once. Errors (409/503/429/network) show inline and polling
// goes on; a 429 waits for its Retry-After first. Loaded with defer after portal/format.js (CSP:
// no inline script). Portal.connectionStatus.init(root) starts the block found in root (the
// document on load; a subtree swapped in by service_status.js later), once per block.
//
// Everything in the JSON comes from the panel and is untrusted: the DOM is built with
// createElement/textContent only, never innerHTML.
(function () {
  "use strict";

  var DEFAULT_POLL_SECONDS = 5;
  var FETCH_TIMEOUT_MS = 20000;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var NETWORK_ERROR = "Could not reach the portal to check your connection. Retrying…";
  var GENERIC_ERROR = "Your connection status is not available just now. Retrying…";
  var SIGNED_OUT_ERROR = "Your session has ended. Please reload the page and sign in again.";

  // Known protocols: label, accent class and icon. Anything else gets a neutral card.
  var PROTOCOLS = {
    wireguard: { label: "WireGuard", icon: "lock" },
    amneziawg: { label: "AmneziaWG", icon: "lock" },
    openvpn: { label: "OpenVPN", icon: "shield" },
    ikev2: { label: "IKEv2", icon: "key" },
  };

  // 24x24 outline icons, stroked in the card's accent colour (currentColor).
  var ICONS = {
    lock: [
      ["rect", { x: "5", y: "11", width: "14", height: "10", rx: "2" }],
      ["path", { d: "M8 11V7a4 4 0 0 1 8 0v4" }],
    ],
    shield: [
      ["path", { d: "M12 2l8 3v6c0 5-3.4 9.4-8 11-4.6-1.6-8-6-8-11V5z" }],
      ["path", { d: "M9 12l2 2 4-4" }],
    ],
    key: [
      ["circle", { cx: "7.5", cy: "15.5", r: "4.5" }],
      ["path", { d: "M10.7 12.3L21 2" }],
      ["path", { d: "M16 7l3 3" }],
      ["path", { d: "M18.5 4.5l2 2" }],
    ],
    plug: [
      ["path", { d: "M9 2v6M15 2v6M6 8h12v4a6 6 0 0 1-12 0zM12 18v4" }],
    ],
  };

  var formatBytes = window.Portal.format.bytes;
  var started = new WeakSet(); // blocks already polling: init twice must not bind twice

  function relativeTime(seconds) {
    if (seconds < 5) {
      return "just now";
    }
    if (seconds < 60) {
      return Math.floor(seconds) + " s ago";
    }
    if (seconds < 3600) {
      return Math.floor(seconds / 60) + " min ago";
    }
    if (seconds < 86400) {
      return Math.floor(seconds / 3600) + " h ago";
    }
    return Math.floor(seconds / 86400) + " d ago";
  }

  function formatDateTime(iso) {
    var date = new Date(String(iso));
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  function text(value) {
    return value === null || value === undefined || value === "" ? "—" : String(value);
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content !== undefined) {
      node.textContent = content;
    }
    return node;
  }

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", "conn-icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("stroke-linejoin", "round");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    (ICONS[name] || ICONS.plug).forEach(function (shape) {
      var child = document.createElementNS(SVG_NS, shape[0]);
      Object.keys(shape[1]).forEach(function (attr) {
        child.setAttribute(attr, shape[1][attr]);
      });
      svg.appendChild(child);
    });
    return svg;
  }

  function handshakeText(session) {
    if (!session.latest_handshake) {
      return "No handshake yet";
    }
    var when = formatDateTime(session.latest_handshake);
    var ago = Number(session.handshake_ago_seconds);
    return isFinite(ago) && session.handshake_ago_seconds !== null
      ? when + " (" + relativeTime(ago) + ")"
      : when;
  }

  function card(session) {
    var key = String(session.protocol || "").toLowerCase();
    var known = Object.prototype.hasOwnProperty.call(PROTOCOLS, key) ? PROTOCOLS[key] : null;
    var article = element("article", "conn-card conn-card--" + (known ? key : "other"));
    article.setAttribute("data-protocol", known ? key : "other");

    var heading = element("h3", "conn-card__title");
    heading.appendChild(icon(known ? known.icon : "plug"));
    heading.appendChild(element("span", null, known ? known.label : text(session.protocol)));
    article.appendChild(heading);

    var facts = element("dl", "conn-facts");
    [
      ["VPN IP", text(session.ip), "ip"],
      ["Network", text(session.network), "network"],
      ["Endpoint", text(session.endpoint), "endpoint"],
      ["Last handshake", handshakeText(session), "handshake"],
      // tx is what the server sent, i.e. what the customer downloaded; rx the other way round.
      ["Downloaded", formatBytes(session.tx_bytes), "downloaded"],
      ["Uploaded", formatBytes(session.rx_bytes), "uploaded"],
    ].forEach(function (row) {
      facts.appendChild(element("dt", null, row[0]));
      var dd = element("dd", null, row[1]);
      dd.setAttribute("data-field", row[2]);
      facts.appendChild(dd);
    });
    article.appendChild(facts);
    return article;
  }

  function start(block) {
    var url = block.getAttribute("data-url");
    var pill = block.querySelector("[data-role=pill]");
    var refreshButton = block.querySelector("[data-role=refresh]");
    var checkedLine = block.querySelector("[data-role=checked]");
    var errorLine = block.querySelector("[data-role=error]");
    var placeholder = block.querySelector("[data-role=placeholder]");
    var cardsBox = block.querySelector("[data-role=cards]");

    var pollSeconds = DEFAULT_POLL_SECONDS;
    var timer = null;
    var inFlight = false;
    var stopped = false;
    var lastCheckedAt = null;
    var backoffUntil = 0; // after a 429: no automatic fetch before this (ms since the epoch)

    function setPill(state, label) {
      pill.className = "conn-pill conn-pill--" + state;
      pill.textContent = label;
    }

    function showError(message) {
      errorLine.textContent = message;
      errorLine.hidden = false;
    }

    function clearError() {
      errorLine.textContent = "";
      errorLine.hidden = true;
    }

    function updateCheckedLine() {
      if (!lastCheckedAt) {
        return;
      }
      var seconds = Math.max(0, (Date.now() - lastCheckedAt.getTime()) / 1000);
      checkedLine.textContent =
        "Last checked " + lastCheckedAt.toLocaleTimeString() + " (" + relativeTime(seconds) + ")";
    }

    function render(data) {
      var sessions = Array.isArray(data.sessions) ? data.sessions : [];
      var seconds = Number(data.poll_seconds);
      pollSeconds = isFinite(seconds) && seconds >= 1 ? seconds : DEFAULT_POLL_SECONDS;
      var checked = new Date(String(data.checked_at));
      lastCheckedAt = isNaN(checked.getTime()) ? new Date() : checked;

      clearError();
      setPill(data.online ? "online" : "offline", data.online ? "Online" : "Offline");
      updateCheckedLine();
      if (placeholder) {
        placeholder.hidden = true;
      }
      var nodes = sessions.map(card);
      if (!nodes.length) {
        nodes.push(element("p", "conn-empty", "Not connected on any protocol right now."));
      }
      cardsBox.replaceChildren.apply(cardsBox, nodes);
    }

    function renderFailure(message, keepData) {
      if (placeholder) {
        placeholder.hidden = true;
      }
      showError(message);
      if (!keepData) {
        // The old cards would pretend to be current; show that the state is unknown instead.
        setPill("unknown", "Unknown");
        cardsBox.replaceChildren();
      }
    }

    function schedule(delaySeconds) {
      window.clearTimeout(timer);
      timer = null;
      if (!document.hidden) {
        timer = window.setTimeout(poll, delaySeconds * 1000);
      }
    }

    function retryAfterSeconds(response) {
      var value = Number(response.headers.get("Retry-After"));
      return isFinite(value) && value > 0 ? Math.max(value, pollSeconds) : pollSeconds * 2;
    }

    function readError(response) {
      return response
        .json()
        .then(function (body) {
          return body && typeof body.error === "string" && body.error ? body.error : GENERIC_ERROR;
        })
        .catch(function () {
          return GENERIC_ERROR;
        });
    }

    function poll() {
      if (!block.isConnected) {
        stopped = true; // swapped out of the page: a new block (if any) polls for itself
        return;
      }
      if (inFlight || document.hidden) {
        return;
      }
      window.clearTimeout(timer);
      timer = null;
      inFlight = true;
      refreshButton.disabled = true;
      block.setAttribute("aria-busy", "true");
      var controller = typeof AbortController === "function" ? new AbortController() : null;
      var abortTimer = controller
        ? window.setTimeout(function () {
            controller.abort();
          }, FETCH_TIMEOUT_MS)
        : null;
      var nextDelay = null;

      fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual", // a redirect here is the login page: the session has ended
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (response.type === "opaqueredirect") {
            renderFailure(SIGNED_OUT_ERROR, false);
            return null;
          }
          if (response.ok) {
            return response.json().then(render);
          }
          if (response.status === 429) {
            nextDelay = retryAfterSeconds(response);
            backoffUntil = Date.now() + nextDelay * 1000;
            return readError(response).then(function (message) {
              renderFailure(message, true);
            });
          }
          if (response.status === 404 || response.status === 409) {
            stopped = true; // no such service, or not set up: asking again cannot help
          }
          return readError(response).then(function (message) {
            renderFailure(message, false);
          });
        })
        .catch(function () {
          renderFailure(NETWORK_ERROR, false);
        })
        .then(function () {
          window.clearTimeout(abortTimer);
          inFlight = false;
          refreshButton.disabled = false;
          block.removeAttribute("aria-busy");
          if (!stopped) {
            schedule(nextDelay === null ? pollSeconds : nextDelay);
          }
        });
    }

    refreshButton.addEventListener("click", function () {
      poll();
    });

    document.addEventListener("visibilitychange", function () {
      if (stopped) {
        return;
      }
      if (document.hidden) {
        window.clearTimeout(timer);
        timer = null;
      } else if (Date.now() < backoffUntil) {
        schedule((backoffUntil - Date.now()) / 1000);
      } else {
        poll();
      }
    });

    // Keep the "(N s ago)" of the last check honest between polls.
    window.setInterval(function () {
      if (!document.hidden) {
        updateCheckedLine();
      }
    }, 1000);

    refreshButton.hidden = false;
    poll();
  }

  function init(root) {
    var block = (root || document).querySelector("#connection-status");
    if (!block || started.has(block)) {
      return;
    }
    started.add(block);
    start(block);
  }

  var portal = (window.Portal = window.Portal || {});
  portal.connectionStatus = { init: init };
  init(document);
})();
