/* Admin pages: the widget button preview and the copy buttons. No inline handlers (CSP). */
(function () {
  "use strict";

  function paint(button, colour) {
    if (/^#[0-9a-fA-F]{6}$/.test(colour)) { button.style.backgroundColor = colour; }
  }

  var button = document.querySelector("[data-preview-button]");
  if (button) {
    paint(button, button.getAttribute("data-colour"));
    document.querySelectorAll("[data-preview]").forEach(function (input) {
      input.addEventListener("input", function () {
        var what = input.getAttribute("data-preview");
        if (what === "label") { button.textContent = input.value; }
        if (what === "colour") { paint(button, input.value); }
        if (what === "position") {
          button.classList.remove("widget-preview-bottom-left", "widget-preview-bottom-right");
          button.classList.add("widget-preview-" + input.value);
        }
      });
    });
  }

  document.querySelectorAll("[data-copy]").forEach(function (copy) {
    copy.addEventListener("click", function () {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      var status = copy.parentNode.querySelector(".copy-status");
      function done(message) { if (status) { status.textContent = message; } }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent).then(
          function () { done("Copied."); },
          function () { done("Could not copy: select the snippet and copy it by hand."); });
      } else {
        var range = document.createRange();
        range.selectNodeContents(source);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        done(document.execCommand("copy") ? "Copied." : "Selected: copy it by hand.");
      }
    });
  });
})();
