// Keyboard review: a accept, r reject, c choose another code (Enter applies it), n next,
// p previous. The keys press the page's own buttons and links, which work without JavaScript.
(function () {
  "use strict";
  var card = document.querySelector("[data-review]");
  if (!card) { return; }
  var select = card.querySelector("[data-key-focus]");
  var change = card.querySelector('button[value="change"]');
  if (window.location.hash === "#suggestion" || !document.activeElement ||
      document.activeElement === document.body) {
    card.focus({ preventScroll: window.location.hash !== "#suggestion" });
  }

  if (select && change) {
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && select.value && select.value !== "0") {
        event.preventDefault();
        change.click();
      } else if (event.key === "Escape") {
        card.focus();
      }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
    if (event.target.closest("input, textarea, select, [contenteditable]")) { return; }
    var key = (event.key || "").toLowerCase();
    if (key === "c" && select) {
      event.preventDefault();
      select.focus();
      return;
    }
    var target = card.querySelector('[data-key="' + key + '"]');
    if (target) {
      event.preventDefault();
      target.click();
    }
  });
})();
