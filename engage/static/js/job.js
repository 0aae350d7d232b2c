// Follows a job's progress by polling its JSON status; no page reload needed.
(function () {
  "use strict";
  var section = document.querySelector("[data-job-status-url]");
  if (!section || section.dataset.finished === "true") { return; }
  var url = section.dataset.jobStatusUrl;
  function field(name) { return section.querySelector('[data-job-field="' + name + '"]'); }
  function show(job) {
    var status = field("status");
    status.textContent = job.status;
    status.className = "status status-" + job.status;
    field("progress").value = job.progress;
    field("progress").textContent = job.progress + "%";
    field("message").textContent = job.message || "";
    var error = field("error");
    error.textContent = job.error || "";
    error.hidden = !job.error;
  }
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        show(job);
        if (job.finished) {
          section.dataset.finished = "true";
          // Reload once so the right actions (Retry) appear.
          window.setTimeout(function () { window.location.reload(); }, 800);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
})();
