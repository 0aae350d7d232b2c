// Read along: highlight the segment being played; a time stamp seeks the player.
(function () {
  "use strict";
  var list = document.querySelector("ol.segments[data-player]");
  var player = list && document.getElementById(list.dataset.player);
  if (!player) { return; }
  var segments = Array.prototype.slice.call(list.querySelectorAll("li.segment"));
  var current = null;

  list.addEventListener("click", function (event) {
    var stamp = event.target.closest("[data-seek]");
    if (!stamp) { return; }
    event.preventDefault();
    player.currentTime = Number(stamp.dataset.seek) / 1000;
    player.play();
  });

  player.addEventListener("timeupdate", function () {
    var ms = player.currentTime * 1000;
    var found = null;
    for (var i = 0; i < segments.length; i++) {
      if (ms >= Number(segments[i].dataset.start) && ms < Number(segments[i].dataset.end)) {
        found = segments[i];
        break;
      }
    }
    if (found === current) { return; }
    if (current) { current.classList.remove("playing"); current.removeAttribute("aria-current"); }
    current = found;
    if (current) {
      current.classList.add("playing");
      current.setAttribute("aria-current", "true");
      if (!player.paused) { current.scrollIntoView({ block: "nearest", behavior: "smooth" }); }
    }
  });
})();
