/* Product admin: render the client-name rule live, the way provisioning/naming.py does.
 *
 * Sample customer and service ids come from data attributes next to the field; random macros use
 * Math.random (the server renders a fixed sample on load). An invalid rule shows a note instead.
 */
"use strict";
(function () {
    const MACRO = /\{(client_id|service_id|unixtime|year|month|day|hour|minute|second|random_digit_(\d+)|random_letter_(\d+))\}/g;
    const LITERAL = /^[A-Za-z0-9_-]*$/;
    const MAX_LENGTH = 120;

    function pad(number, width) {
        return String(number).padStart(width, "0");
    }

    function randomFrom(alphabet, count) {
        let out = "";
        for (let i = 0; i < count; i++) {
            out += alphabet.charAt(Math.floor(Math.random() * alphabet.length));
        }
        return out;
    }

    function valid(rule) {
        if (!rule.trim()) {
            return false;
        }
        const literal = rule.trim().replace(MACRO, "");
        if (!LITERAL.test(literal)) {
            return false;
        }
        for (const match of rule.matchAll(MACRO)) {
            const count = match[2] || match[3];
            if (count !== undefined && (Number(count) < 1 || Number(count) > 32)) {
                return false;
            }
        }
        return true;
    }

    function render(rule, clientId, serviceId) {
        const now = new Date();
        const fixed = {
            client_id: clientId,
            service_id: serviceId,
            unixtime: String(Math.floor(now.getTime() / 1000)),
            year: pad(now.getUTCFullYear(), 4),
            month: pad(now.getUTCMonth() + 1, 2),
            day: pad(now.getUTCDate(), 2),
            hour: pad(now.getUTCHours(), 2),
            minute: pad(now.getUTCMinutes(), 2),
            second: pad(now.getUTCSeconds(), 2),
        };
        return rule.trim().replace(MACRO, function (whole, macro, digits, letters) {
            if (digits) {
                return randomFrom("0123456789", Number(digits));
            }
            if (letters) {
                return randomFrom("abcdefghijklmnopqrstuvwxyz", Number(letters));
            }
            return fixed[macro];
        }).slice(0, MAX_LENGTH);
    }

    function init(input) {
        const preview = input.parentElement.querySelector("[data-name-rule-preview]")
            || input.closest(".form-row").querySelector("[data-name-rule-preview]");
        if (!preview) {
            return;
        }
        const output = preview.querySelector("[data-preview-output]");
        const error = preview.querySelector("[data-preview-error]");
        function update() {
            const rule = input.value;
            if (valid(rule)) {
                output.textContent = render(rule, preview.dataset.clientId, preview.dataset.serviceId);
                error.hidden = true;
            } else {
                output.textContent = "—";
                error.textContent = "This rule is not valid.";
                error.hidden = false;
            }
        }
        input.addEventListener("input", update);
    }

    document.addEventListener("DOMContentLoaded", function () {
        document.querySelectorAll("input[data-name-rule]").forEach(init);
    });
})();
