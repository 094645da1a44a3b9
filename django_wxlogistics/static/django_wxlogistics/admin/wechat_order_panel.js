/* Asks WeChat for its view of a payment when the button is clicked, and shows it in the panel. */
"use strict";
(function () {
    function showError(body, text) {
        const note = document.createElement("p");
        note.className = "errornote wxl-contact-error";
        note.textContent = text;
        body.replaceChildren(note);
    }

    function load(panel) {
        const body = panel.querySelector(".wxl-contact-body");
        panel.setAttribute("aria-busy", "true");
        return fetch(panel.dataset.url, {
            method: "GET",
            credentials: "same-origin",
            headers: {"X-Requested-With": "XMLHttpRequest"},
        })
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
        const panel = document.getElementById("wxl-wechat-order-panel");
        if (!panel) {
            return;
        }
        panel.addEventListener("click", function (event) {
            const button = event.target.closest("[data-wxl-wechat-order]");
            if (!button) {
                return;
            }
            event.preventDefault();
            button.setAttribute("aria-disabled", "true");
            load(panel);
        });
    });
})();
