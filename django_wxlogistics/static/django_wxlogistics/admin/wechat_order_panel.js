/* Asks WeChat for its view of a payment when the button is clicked, and shows it in the panel. */
"use strict";
window.wxlPanel.watch("wxl-wechat-order-panel", "[data-wxl-wechat-order]", function (panel, button) {
    button.setAttribute("aria-disabled", "true");
    window.wxlPanel.load(panel, "GET");
});
