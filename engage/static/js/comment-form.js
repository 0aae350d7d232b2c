// Public comment form: a character counter under the comment box. The form works
// the same without it; the server checks the length either way.
(function () {
  "use strict";
  var box = document.querySelector("textarea[data-maxlength][data-counter]");
  if (!box) { return; }
  var max = parseInt(box.dataset.maxlength, 10);
  var counter = document.createElement("p");
  counter.className = "hint counter";
  counter.id = box.id + "-counter";
  counter.setAttribute("aria-live", "polite");
  box.insertAdjacentElement("afterend", counter);
  var pending = null;
  function update() {
    var n = box.value.length;
    counter.textContent = box.dataset.counter
      .replace("{count}", n.toLocaleString())
      .replace("{max}", max.toLocaleString());
    counter.classList.toggle("error", n > max);
  }
  // Screen readers hear the count after a pause in typing, not on every key.
  box.addEventListener("input", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(update, 600);
  });
  update();
})();
