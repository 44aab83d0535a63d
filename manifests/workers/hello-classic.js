// A classic (service worker) script: no import/export, one event listener.
addEventListener("fetch", (event) => {
  event.respondWith(new Response(`${GREETING}\n`, { headers: { "content-type": "text/plain" } }));
});
