/* Loads a waybill's contact panel after the page, so a slow WeChat never holds up the page. */
"use strict";
(function () {
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

    document.addEventListener("DOMContentLoaded", function () {
        const panel = document.getElementById("wxl-contact-panel");
        if (!panel) {
            return;
        }
        panel.addEventListener("click", function (event) {
            const button = event.target.closest("[data-wxl-reveal], [data-wxl-reload]");
            if (!button) {
                return;
            }
            event.preventDefault();
            button.disabled = true;
            load(panel, button.hasAttribute("data-wxl-reveal") ? "POST" : "GET");
        });
        load(panel, "GET");
    });
})();
