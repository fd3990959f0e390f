/* Product admin, VPN networks: keep the ticked server → network pairs in an order the admin sets.
 *
 * The ordered list mirrors the ticked checkboxes; up/down buttons reorder it, and the hidden
 * "deploy_order" input always holds the list as "server_id:network" values joined by commas.
 * Without this script the form still works: the saved order is kept, new ticks go last.
 */
"use strict";
(function () {
    function init(root) {
        const list = root.querySelector("[data-deploy-order-list]");
        const hidden = root.querySelector("input[name$='deploy_order']");
        const empty = root.querySelector("[data-deploy-order-empty]");
        const noJs = root.querySelector("[data-deploy-order-nojs]");
        if (!list || !hidden) {
            return;
        }
        if (noJs) {
            noJs.hidden = true;
        }

        function boxes() {
            return Array.from(root.querySelectorAll("input[type=checkbox][name$='deploy_targets']"));
        }

        function write() {
            const values = Array.from(list.children).map(function (item) {
                return item.dataset.value;
            });
            hidden.value = values.join(",");
            if (empty) {
                empty.hidden = values.length > 0;
            }
            Array.from(list.children).forEach(function (item, index) {
                item.querySelector("[data-move='up']").disabled = index === 0;
                item.querySelector("[data-move='down']").disabled = index === values.length - 1;
            });
        }

        function button(direction, text, title) {
            const b = document.createElement("button");
            b.type = "button";
            b.className = "button deploy-order-move";
            b.dataset.move = direction;
            b.title = title;
            b.textContent = text;
            return b;
        }

        function decorate(item) {
            item.append(" ", button("up", "↑", "Move up"), " ", button("down", "↓", "Move down"));
        }

        function add(value, label) {
            const item = document.createElement("li");
            item.dataset.value = value;
            const span = document.createElement("span");
            span.className = "deploy-order-label";
            span.textContent = label;
            item.append(span);
            decorate(item);
            list.append(item);
        }

        function find(value) {
            return Array.from(list.children).find(function (item) {
                return item.dataset.value === value;
            });
        }

        // Start from the server-rendered order; make sure it matches the ticked boxes.
        Array.from(list.children).forEach(decorate);
        const ticked = new Set();
        boxes().forEach(function (box) {
            if (box.checked) {
                ticked.add(box.value);
                if (!find(box.value)) {
                    add(box.value, box.dataset.label || box.value);
                }
            }
        });
        Array.from(list.children).forEach(function (item) {
            if (!ticked.has(item.dataset.value)) {
                item.remove();
            }
        });
        write();

        root.addEventListener("change", function (event) {
            const box = event.target;
            if (!box.matches || !box.matches("input[type=checkbox][name$='deploy_targets']")) {
                return;
            }
            const item = find(box.value);
            if (box.checked && !item) {
                add(box.value, box.dataset.label || box.value);
            } else if (!box.checked && item) {
                item.remove();
            }
            write();
        });

        list.addEventListener("click", function (event) {
            const b = event.target.closest("button[data-move]");
            if (!b) {
                return;
            }
            const item = b.closest("li");
            if (b.dataset.move === "up" && item.previousElementSibling) {
                list.insertBefore(item, item.previousElementSibling);
            } else if (b.dataset.move === "down" && item.nextElementSibling) {
                list.insertBefore(item.nextElementSibling, item);
            }
            write();
            b.focus();
        });
    }

    document.addEventListener("DOMContentLoaded", function () {
        document.querySelectorAll("[data-vpn-networks]").forEach(init);
    });
})();
