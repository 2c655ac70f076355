// The UI's own script. Pages read fine without it: it only shows times in the
// viewer's time zone and keeps deadline countdowns counting.
(function () {
  "use strict";

  // (dateStyle cannot be combined with timeZoneName, hence the fields one by one.)
  var dateTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  var dateOnly = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric"
  });

  function words(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    if (m) return m + " min";
    return "under a minute";
  }

  function localTimes(root) {
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var format = el.getAttribute("data-local-time") === "date" ? dateOnly : dateTime;
      el.textContent = format.format(when);
    });
  }

  function countdowns(root) {
    root.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = (new Date(el.getAttribute("datetime")) - Date.now()) / 1000;
      if (isNaN(left)) return;
      el.textContent = left > 0 ? words(left) + " left" : "overdue by " + words(left);
      el.classList.toggle("overdue", left <= 0);
    });
  }

  function refresh(root) {
    localTimes(root);
    countdowns(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    refresh(document);
    setInterval(function () { countdowns(document); }, 30000);
  });
  // Parts of a page that htmx swaps in get the same treatment.
  document.addEventListener("htmx:load", function (event) { refresh(event.target); });
})();
