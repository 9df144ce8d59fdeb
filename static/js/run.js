// Polls a payroll run's status and moves the progress bar until it ends.
(function () {
  var box = document.getElementById("run");
  if (!box) return;
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;
  var url = box.getAttribute("data-url");
  var bar = document.getElementById("run-progress");
  var label = document.getElementById("run-status");
  var count = document.getElementById("run-count");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        bar.value = run.progress;
        bar.textContent = run.progress + "%";
        label.textContent = run.status_display;
        count.textContent = run.workers_done + "/" + run.workers_total;
        box.setAttribute("data-status", run.status);
        if (run.status === "queued" || run.status === "running") {
          setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
