/* Loads a waybill's contact panel after the page, so a slow WeChat never holds up the page. */
"use strict";
window.wxlPanel.watch(
    "wxl-contact-panel",
    "[data-wxl-reveal], [data-wxl-reload]",
    function (panel, button) {
        button.disabled = true;
        window.wxlPanel.load(panel, button.hasAttribute("data-wxl-reveal") ? "POST" : "GET");
    },
    function (panel) {
        window.wxlPanel.load(panel, "GET");
    },
);
