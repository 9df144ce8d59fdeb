// Polls a connector's running pull and moves its progress bar until it ends.
(function () {
  var box = document.getElementById("sync");
  if (!box || box.getAttribute("data-status") !== "running") return;
  var url = box.getAttribute("data-url");
  var bar = document.getElementById("sync-progress");
  var count = document.getElementById("sync-count");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (sync) {
        if (bar) { bar.max = sync.total || 1; bar.value = sync.done; }
        if (count) count.textContent = sync.done + "/" + sync.total;
        if (sync.status === "running") setTimeout(poll, 1000);
        else window.location.reload();
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
