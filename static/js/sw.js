// ParkPay's service worker (served as /sw.js, scope /): keeps the worker's
// own pages readable when the network drops. A page is kept only when it says
// so (<body data-offline="keep">: the worker's earnings, hours, payslips and
// payslip pages) and a payslip PDF only once its payslip page is kept, so the
// pages of staff are never stored on a phone. The copy served offline gets
// data-saved-at on its <body>; static/js/offline.js shows when it was saved.
// The style sheet and scripts those pages use are kept too (they hold nothing
// personal), so a copy opened hours later is styled and shows its banner.
"use strict";

var CACHE = "parkpay-offline-v1";
var PDF = /^\/payslips\/[^/]+\/pdf\/$/;
var STATIC = "/static/";  // settings.STATIC_URL, put in by config/pwa.py
var ASSET = /\.(css|js)$/;

function isAsset(path) {
  return path.indexOf(STATIC) === 0 && ASSET.test(path);
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("parkpay-offline-") === 0 && n !== CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  // Logging out forgets what was kept.
  if (event.data === "forget") event.waitUntil(caches.delete(CACHE));
});

function stamped(response, savedAt) {
  var headers = new Headers(response.headers);
  headers.set("X-ParkPay-Saved-At", savedAt);
  return response.blob().then(function (body) {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

function keep(request, response) {
  if (!response.ok || response.redirected || response.type !== "basic") return Promise.resolve();
  var type = response.headers.get("Content-Type") || "";
  var url = new URL(request.url);
  var savedAt = new Date().toISOString();
  return caches.open(CACHE).then(function (cache) {
    if (type.indexOf("text/html") === 0) {
      return response.text().then(function (html) {
        if (html.indexOf('data-offline="keep"') < 0) return cache.delete(request);
        var headers = new Headers(response.headers);
        headers.set("X-ParkPay-Saved-At", savedAt);
        return cache.put(url.pathname, new Response(html, { status: 200, headers: headers }));
      });
    }
    if (isAsset(url.pathname)) {
      // Once per name: versioned names (hashed by collectstatic) never change.
      return cache.match(url.pathname).then(function (kept) {
        return kept ? undefined : cache.put(url.pathname, response);
      });
    }
    if (type.indexOf("application/pdf") === 0 && PDF.test(url.pathname)) {
      var page = url.pathname.replace(/pdf\/$/, "");
      return cache.match(page).then(function (kept) {
        if (!kept) return undefined;
        return stamped(response, savedAt).then(function (r) { return cache.put(url.pathname, r); });
      });
    }
    return undefined;
  });
}

function fromCache(request) {
  var path = new URL(request.url).pathname;
  return caches.open(CACHE).then(function (cache) {
    return cache.match(path);
  }).then(function (kept) {
    if (!kept) return Response.error();
    var savedAt = kept.headers.get("X-ParkPay-Saved-At") || "";
    if ((kept.headers.get("Content-Type") || "").indexOf("text/html") !== 0) return kept;
    return kept.text().then(function (html) {
      html = html.replace("<body ", '<body data-saved-at="' + savedAt + '" ');
      return new Response(html, { status: 200, headers: kept.headers });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var wanted = request.mode === "navigate" || PDF.test(url.pathname) || isAsset(url.pathname);
  if (!wanted) return;
  event.respondWith(
    fetch(request).then(function (response) {
      event.waitUntil(keep(request, response.clone()));
      return response;
    }, function () {
      return fromCache(request);
    })
  );
});
