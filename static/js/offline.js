// Registers the service worker (static/js/sw.js, served as /sw.js) and, on a
// copy it kept, says when it was saved and that the phone is offline.
(function () {
  var body = document.body;
  var savedAt = body.getAttribute("data-saved-at");
  var banner = document.getElementById("offline-banner");
  if (savedAt && banner) {
    var when = new Date(savedAt);
    var time = banner.querySelector("time");
    time.setAttribute("datetime", savedAt);
    time.textContent = isNaN(when) ? savedAt : when.toLocaleString(document.documentElement.lang || undefined, {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
    });
    banner.hidden = false;
  }
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(body.getAttribute("data-sw") || "/sw.js", { scope: "/" })
    .catch(function () { /* no offline copies; the site works as before */ });
  var logout = document.getElementById("logout-form");
  if (logout && navigator.serviceWorker.controller) {
    logout.addEventListener("submit", function () {
      navigator.serviceWorker.controller.postMessage("forget");
    });
  }
})();
