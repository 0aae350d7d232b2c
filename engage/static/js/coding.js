// Code a selection: selecting words in a passage opens the coding panel with the span filled in.
// Offsets are counted in Unicode code points, as the server (and REFI-QDA) count them.
// Without JavaScript each passage has a "Code this passage" link to a plain form.
(function () {
  "use strict";
  var panel = document.getElementById("code-panel");
  if (!panel || !window.getSelection || !document.createRange) { return; }
  var shown = panel.querySelector("[data-selection]");

  function codePoints(text) { return Array.from(text).length; }

  function unitOf(node) {
    var element = node.nodeType === 1 ? node : node.parentElement;
    return element ? element.closest("[data-unit]") : null;
  }

  function offsetIn(container, node, offset) {
    var range = document.createRange();
    range.setStart(container, 0);
    range.setEnd(node, offset);
    return codePoints(range.toString());
  }

  function field(name) { return panel.querySelector('[name="' + name + '"]'); }

  function onSelect() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) { return; }
    var range = selection.getRangeAt(0);
    var unit = unitOf(range.startContainer);
    if (!unit || unit !== unitOf(range.endContainer)) { return; }  // one passage at a time
    var start = offsetIn(unit, range.startContainer, range.startOffset);
    var end = offsetIn(unit, range.endContainer, range.endOffset);
    var quote = range.toString();
    if (end <= start || !quote.trim()) { return; }
    field("unit").value = unit.dataset.unit;
    field("start").value = start;
    field("end").value = end;
    field("quote").value = quote;
    shown.textContent = quote.length > 160 ? quote.slice(0, 159) + "…" : quote;
    panel.hidden = false;
    var item = unit.closest("li, .unit");
    if (item && panel.parentNode !== item) { item.appendChild(panel); }
  }

  document.addEventListener("mouseup", function () { window.setTimeout(onSelect, 0); });
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey) { onSelect(); }
  });
  panel.querySelector("[data-close]").addEventListener("click", function () {
    panel.hidden = true;
    window.getSelection().removeAllRanges();
  });
})();
