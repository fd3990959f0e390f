// Shared display helpers of the portal's scripts, on window.Portal.format. Load it (defer) before
// any script that uses it (CSP: no inline script).
(function () {
  "use strict";

  // Decimal units (1 KB = 1000 B), like the portal's plan limits and traffic totals ("GB" there
  // means 10^9 bytes), so the numbers on every page agree with each other.
  var UNITS = ["B", "KB", "MB", "GB", "TB"];

  // "1.50 GB"; whole bytes below 1 KB ("999 B"); "—" for anything that is not a count.
  function bytes(value, digits) {
    var amount = Number(value);
    if (value === null || value === "" || !isFinite(amount) || amount < 0) {
      return "—";
    }
    var index = 0;
    while (amount >= 1000 && index < UNITS.length - 1) {
      amount /= 1000;
      index += 1;
    }
    if (index === 0) {
      return Math.round(amount) + " B";
    }
    return amount.toFixed(digits === undefined ? 2 : digits) + " " + UNITS[index];
  }

  var portal = (window.Portal = window.Portal || {});
  portal.format = { bytes: bytes };
})();
