// zicht live pages. An open page hears through server-sent events (GET /live, over the session
// cookie) that what it shows has changed, never what: the header's unread count follows at once;
// the work queue (/waarschuwingen), Berichten and a household page (/huishoudens/ID) show a polite
// notice with a link that loads the page again. Nothing reloads by itself, so nothing loops and
// nothing being typed is lost. Without this script every page works as it did.
(function () {
  "use strict";
  if (!window.EventSource || !window.URL) return;
  var main = document.getElementById("inhoud");
  if (!main) return;

  // What this page shows, and so which news it wants.
  var watched = null;
  var query = "";
  var path = location.pathname;
  var household = /^\/huishoudens\/([^\/]+)$/.exec(path);
  if (path === "/waarschuwingen") {
    watched = "queue";
  } else if (path === "/berichten") {
    watched = "unread";
  } else if (household) {
    watched = "household";
    query = "huishouden=" + encodeURIComponent(decodeURIComponent(household[1]));
  }

  // The polite region the notice appears in: there from the start, so that it is announced.
  var region = document.createElement("div");
  region.className = "live";
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  main.insertBefore(region, main.firstChild);

  function notice() {
    if (region.firstChild) return;
    var here = new URL(location.href);
    // The confirmation of what was just done is no news on the page loaded again.
    here.searchParams.delete("besloten");
    here.searchParams.delete("opgeslagen");
    var line = document.createElement("p");
    line.className = "notice";
    line.appendChild(document.createTextNode("Er is iets veranderd — "));
    var again = document.createElement("a");
    again.href = here.pathname + here.search;
    again.textContent = "vernieuwen";
    line.appendChild(again);
    region.appendChild(line);
  }

  // "Berichten (3 ongelezen)" in the header, as the server renders it (`.wide`: the word a
  // narrow header may leave out).
  function unread(count) {
    var link = document.querySelector('header a[href="/berichten"]');
    if (!link || !(count >= 0)) return;
    while (link.firstChild) link.removeChild(link.firstChild);
    link.appendChild(document.createTextNode("Berichten"));
    if (count > 0) {
      link.appendChild(document.createTextNode(" (" + count));
      var word = document.createElement("span");
      word.className = "wide";
      word.textContent = " ongelezen";
      link.appendChild(word);
      link.appendChild(document.createTextNode(")"));
    }
  }

  var source = null;
  // The id of the last event: a stream opened again resumes from it and hears what it missed.
  var last = "";

  function remember(event) {
    if (event.lastEventId) last = event.lastEventId;
  }

  function open() {
    if (source) return;
    var params = query;
    if (last) params += (params ? "&" : "") + "sinds=" + encodeURIComponent(last);
    var stream = new EventSource("/live" + (params ? "?" + params : ""));
    source = stream;
    // For people who read the page's state (and tests): connecting, open, or closed for good.
    region.setAttribute("data-state", "verbinden");
    stream.addEventListener("ready", function (event) {
      remember(event);
      region.setAttribute("data-state", "open");
    });
    stream.addEventListener("error", function () {
      // A lost connection is retried by the browser; a refusal (signed out) is not.
      region.setAttribute("data-state", stream.readyState === EventSource.CLOSED ? "dicht" : "verbinden");
    });
    stream.addEventListener("unread", function (event) {
      remember(event);
      unread(parseInt(event.data, 10));
      if (watched === "unread") notice();
    });
    if (watched === "queue" || watched === "household") {
      stream.addEventListener(watched, function (event) {
        remember(event);
        notice();
      });
    }
  }

  function close() {
    if (source) {
      source.close();
      source = null;
    }
  }

  // A hidden tab holds no connection (a browser opens only a few to one site over HTTP/1.1);
  // shown again, it resumes and hears what changed meanwhile.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") close();
    else open();
  });
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) open();
  });
  if (document.visibilityState !== "hidden") open();
})();
