/* Loads an admin panel's HTML into it from its data-url, and says what failed; the contact and WeChat order panels use it. */
"use strict";
window.wxlPanel = (function () {
    function csrfToken() {
        const input = document.querySelector("input[name=csrfmiddlewaretoken]");
        return input ? input.value : "";
    }

    function showError(body, text) {
        const note = document.createElement("p");
        note.className = "errornote wxl-contact-error";
        note.textContent = text;
        body.replaceChildren(note);
    }

    function load(panel, method) {
        const body = panel.querySelector(".wxl-contact-body");
        const headers = {"X-Requested-With": "XMLHttpRequest"};
        if (method === "POST") {
            headers["X-CSRFToken"] = csrfToken();
        }
        panel.setAttribute("aria-busy", "true");
        return fetch(panel.dataset.url, {method: method, credentials: "same-origin", headers: headers})
            .then(function (response) {
                // 429: the panel itself says how long to wait before the next lookup.
                if (!response.ok && response.status !== 429) {
                    showError(body, panel.dataset.errorHttp.replace("%(status)s", response.status));
                    return;
                }
                return response.text().then(function (html) {
                    body.innerHTML = html;
                });
            })
            .catch(function () {
                showError(body, panel.dataset.errorNetwork);
            })
            .finally(function () {
                panel.removeAttribute("aria-busy");
            });
    }

    // Once the page is read: a click on one of the panel's buttons (matching `buttons`) is
    // handed to `click(panel, button)`; `ready(panel)`, if given, runs at once.
    function watch(id, buttons, click, ready) {
        document.addEventListener("DOMContentLoaded", function () {
            const panel = document.getElementById(id);
            if (!panel) {
                return;
            }
            panel.addEventListener("click", function (event) {
                const button = event.target.closest(buttons);
                if (!button) {
                    return;
                }
                event.preventDefault();
                click(panel, button);
            });
            if (ready) {
                ready(panel);
            }
        });
    }

    return {load: load, watch: watch};
})();
