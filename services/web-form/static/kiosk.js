// Kaiku kiosk mode: a tablet in the waiting room. The form works without this script; with it,
// the kiosk (1) never shows the previous respondent's answers: after sending, or after a while
// without touch (with a warning 20 s before, and a button for more time), the form is emptied
// and a fresh submission id is drawn; (2) keeps taking answers while the premises' network is
// down: each answer, with its own submission id and the time it was given, is sent at once, and
// only one that cannot be sent now is kept in localStorage and sent when the network returns.
// Intake stores a submission id once and the read models count it once, so re-sending after a
// lost reply never doubles an answer. Answers (open texts too) are on a shared tablet, so none
// stays longer than it must: an answer the server takes at once is never written; a kept one is
// deleted as soon as the server has stored it or refused it for good, and unsent once it is
// older than the server's window for a late kiosk answer (data-keep-seconds, 7 days), which is
// checked on load and before every send. (3) The
// thank-you screen (drawn by the server for the respondent's age, in a template) returns to a
// fresh form after data-return-seconds, unless the respondent asks to keep reading (WCAG 2.2.1:
// the time limit can be turned off before it is reached; the idle timer then applies).
(function () {
  "use strict";
  var form = document.querySelector("form[data-kiosk]");
  if (!form) { return; }
  var QUEUE_PREFIX = "kaiku-kiosk-queue:";
  var QUEUE_KEY = QUEUE_PREFIX + location.pathname;
  var WARNING_MS = 20000;
  var idleMs = Math.max(WARNING_MS + 1000, (Number(form.dataset.idleSeconds) || 90) * 1000);
  var returnMs = Math.max(1, Number(form.dataset.returnSeconds) || 10) * 1000;
  var retryMs = 5000;
  // The server takes a kiosk's answer for this long after it was given (web-form's
  // KIOSK_ANSWER_WINDOW); an older one could never be stored, so the tablet does not keep it.
  var keepMs = (Number(form.dataset.keepSeconds) || 7 * 24 * 60 * 60) * 1000;
  // A new answer still unanswered after this long is kept on the tablet in case the send fails
  // or the page goes; a send that succeeds within it writes nothing.
  var slowMs = 3000;
  // A send gives up after this long and is retried: the server's own calls take 15 s at most
  // each (the form, then the submission).
  var sendTimeoutMs = 35000;
  // New answers being sent, not (yet) kept on the tablet, by submission id.
  var inFlight = {};
  // Answers the tablet's storage refused (full or disabled): kept only in this page's memory.
  var unstored = [];
  var sending = false;
  var warnTimer = null;
  var resetTimer = null;
  var returnTimer = null;

  function uuid() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // True for an answer the server would still take: well formed and given within the window
  // (by the time it carries, the one the server checks).
  function fresh(item, now) {
    if (!item || typeof item.id !== "string" || typeof item.body !== "string") { return false; }
    var at = Date.parse(new URLSearchParams(item.body).get("answered_at") || "");
    return now - at < keepMs;
  }

  // An empty queue leaves no key behind. False when the tablet's storage refuses (full, disabled).
  function writeQueue(key, queue) {
    try {
      if (queue.length === 0) {
        localStorage.removeItem(key);
      } else {
        localStorage.setItem(key, JSON.stringify(queue));
      }
      return true;
    } catch (e) {
      return false;
    }
  }

  // The kept answers of `key` the server would still take, oldest first; the others (expired,
  // or unreadable) are deleted unsent.
  function prune(key) {
    var queue;
    try { queue = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { queue = null; }
    if (!Array.isArray(queue)) {
      writeQueue(key, []);
      return [];
    }
    var now = Date.now();
    var kept = queue.filter(function (item) { return fresh(item, now); });
    if (kept.length !== queue.length) { writeQueue(key, kept); }
    return kept;
  }

  // Every kiosk queue on the tablet, also those of links it no longer shows (moved to another
  // unit's link): none may outstay the window.
  function pruneAll() {
    var keys = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var key = localStorage.key(i);
        if (key && key.indexOf(QUEUE_PREFIX) === 0) { keys.push(key); }
      }
    } catch (e) {
      return;
    }
    keys.forEach(prune);
  }

  // An answer that cannot be sent now: kept on the tablet (in memory if storage refuses) until
  // it is sent or expires.
  function keep(item) {
    var entry = { id: item.id, body: item.body };
    var queue = prune(QUEUE_KEY);
    if (!fresh(entry, Date.now()) || queue.some(function (q) { return q.id === entry.id; })) { return; }
    queue.push(entry);
    if (writeQueue(QUEUE_KEY, queue)) {
      item.kept = true;
    } else if (!unstored.some(function (q) { return q.id === entry.id; })) {
      unstored.push(entry);
    }
  }

  // The server has the answer, or will never take it: nothing of it stays.
  function forget(id) {
    unstored = unstored.filter(function (q) { return q.id !== id; });
    var queue = prune(QUEUE_KEY);
    var rest = queue.filter(function (q) { return q.id !== id; });
    if (rest.length !== queue.length) { writeQueue(QUEUE_KEY, rest); }
  }

  // One answer to the server: "done" when it has stored it (200) or never can (404 invalid
  // link, 422 invalid, closed or too old), "retry" for anything else (offline, no reply in
  // time, 429, 5xx).
  function send(item) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, sendTimeoutMs) : null;
    return fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Kaiku-Kiosk": "1" },
      body: item.body,
      credentials: "omit",
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return (response.status === 200 || response.status === 404 || response.status === 422) ? "done" : "retry";
    }, function () {
      return "retry";
    }).then(function (outcome) {
      if (timer) { clearTimeout(timer); }
      return outcome;
    });
  }

  // A new answer goes to the server at once; it is written to the tablet only when the send
  // fails or is slow.
  function sendNow(item) {
    inFlight[item.id] = item;
    var slow = setTimeout(function () { keep(item); }, slowMs);
    send(item).then(function (outcome) {
      clearTimeout(slow);
      delete inFlight[item.id];
      if (outcome === "done") {
        unstored = unstored.filter(function (q) { return q.id !== item.id; });
        if (item.kept) { forget(item.id); }
      } else {
        keep(item);
        setTimeout(flush, retryMs);
      }
    });
  }

  // Sends kept answers one at a time, oldest first, after deleting the expired ones. An answer
  // leaves the tablet when the server is done with it; anything else is retried later.
  function flush() {
    if (sending) { return; }
    var now = Date.now();
    unstored = unstored.filter(function (item) { return fresh(item, now); });
    var queue = prune(QUEUE_KEY).concat(unstored).filter(function (item) { return !inFlight[item.id]; });
    if (queue.length === 0) { return; }
    sending = true;
    var item = queue[0];
    send(item).then(function (outcome) {
      sending = false;
      if (outcome === "done") {
        forget(item.id);
        flush();
      } else {
        setTimeout(flush, retryMs);
      }
    });
  }

  function removeAll(selector) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (e) { e.remove(); });
  }

  function clearErrors() {
    removeAll(".kiosk-error, #kiosk-error-summary");
    Array.prototype.forEach.call(form.querySelectorAll(".has-error"), function (q) {
      q.classList.remove("has-error");
      q.removeAttribute("aria-describedby");
      Array.prototype.forEach.call(q.querySelectorAll("[aria-invalid]"), function (i) { i.removeAttribute("aria-invalid"); });
    });
  }

  // Only the one check a respondent can fail on a kiosk (a required question left empty); the
  // rest is fixed by the inputs themselves, and the server checks everything again.
  function missingRequired() {
    var missing = [];
    Array.prototype.forEach.call(form.querySelectorAll("[data-required]"), function (q) {
      var answered = Array.prototype.some.call(q.querySelectorAll("input, textarea"), function (i) {
        return (i.type === "radio" || i.type === "checkbox") ? i.checked : i.value.trim() !== "";
      });
      if (!answered) { missing.push(q); }
    });
    return missing;
  }

  // The same structure the server draws: a summary that is announced, with a link to each
  // question, and the message next to the question, tied to it with aria-describedby.
  function showErrors(missing) {
    var summary = document.createElement("div");
    summary.id = "kiosk-error-summary";
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    var heading = document.createElement("h2");
    heading.textContent = form.dataset.errorSummary;
    var list = document.createElement("ul");
    summary.appendChild(heading);
    summary.appendChild(list);
    missing.forEach(function (q) {
      var key = q.dataset.question;
      var p = document.createElement("p");
      p.className = "error kiosk-error";
      p.id = "kiosk-error-" + key;
      p.textContent = form.dataset.errorRequired;
      var legend = q.querySelector("legend, label");
      legend.parentNode.insertBefore(p, legend.nextSibling);
      q.classList.add("has-error");
      q.setAttribute("aria-describedby", p.id);
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + q.id;
      a.textContent = legend.textContent.trim() + ": " + form.dataset.errorRequired;
      li.appendChild(a);
      list.appendChild(li);
    });
    form.parentNode.insertBefore(summary, form);
    summary.focus();
  }

  function hideWarning() { removeAll("#kiosk-idle-warning"); }

  function stopReturn() {
    if (returnTimer) { clearTimeout(returnTimer); }
    returnTimer = null;
  }

  function resetForm() {
    stopReturn();
    form.reset();
    clearErrors();
    hideWarning();
    form.elements["submission_id"].value = uuid();
    removeAll("#kiosk-thanks");
    form.hidden = false;
    window.scrollTo(0, 0);
    restartIdleTimer();
  }

  function paragraph(text, tag) {
    var p = document.createElement(tag || "p");
    p.textContent = text;
    return p;
  }

  function button(id, text, className) {
    var b = document.createElement("button");
    b.type = "button";
    b.id = id;
    b.textContent = text;
    if (className) { b.className = className; }
    return b;
  }

  function showThanks() {
    form.hidden = true;
    var box = document.createElement("div");
    box.id = "kiosk-thanks";
    box.className = "kiosk-thanks";
    box.setAttribute("role", "status");
    var content = document.getElementById("kiosk-thanks-content");
    if (content) { box.appendChild(content.content.cloneNode(true)); }
    var actions = document.createElement("div");
    actions.className = "kiosk-actions";
    var next = button("kiosk-next", form.dataset.next);
    next.addEventListener("click", resetForm);
    var stay = button("kiosk-stay", form.dataset.stay, "secondary");
    stay.addEventListener("click", function () {
      stopReturn();
      removeAll("#kiosk-stay, .kiosk-thanks .kiosk-return-note");
      next.focus();
    });
    actions.appendChild(next);
    actions.appendChild(stay);
    box.appendChild(actions);
    form.parentNode.insertBefore(box, form);
    next.focus();
    stopReturn();
    returnTimer = setTimeout(resetForm, returnMs);
  }

  // WCAG 2.2.1: a warning with at least 20 s to ask for more time before the form is emptied.
  function showWarning() {
    if (document.getElementById("kiosk-idle-warning")) { return; }
    var box = document.createElement("div");
    box.id = "kiosk-idle-warning";
    box.className = "banner";
    box.setAttribute("role", "alert");
    box.appendChild(paragraph(form.dataset.idleWarning));
    var more = document.createElement("button");
    more.type = "button";
    more.id = "kiosk-continue";
    more.textContent = form.dataset.continue;
    more.addEventListener("click", function () { hideWarning(); restartIdleTimer(); });
    box.appendChild(more);
    document.querySelector("main").insertBefore(box, document.querySelector("main").firstChild);
    more.focus();
  }

  function restartIdleTimer() {
    if (warnTimer) { clearTimeout(warnTimer); }
    if (resetTimer) { clearTimeout(resetTimer); }
    warnTimer = setTimeout(showWarning, idleMs - WARNING_MS);
    resetTimer = setTimeout(function () { resetForm(); }, idleMs);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var missing = missingRequired();
    if (missing.length > 0) {
      showErrors(missing);
      return;
    }
    var data = new URLSearchParams(new FormData(form));
    // When it was answered, not when the network let it through: the answer belongs to the
    // day (and collection period) it was given.
    data.set("answered_at", new Date().toISOString());
    var item = { id: form.elements["submission_id"].value, body: data.toString() };
    form.reset();
    form.elements["submission_id"].value = uuid();
    showThanks();
    // A tablet that knows it has no network keeps the answer at once; otherwise it tries.
    if (navigator.onLine === false) {
      keep(item);
      flush();
    } else {
      sendNow(item);
    }
  });

  // Any touch or key counts as activity, except while the warning waits for its own button.
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () {
      if (!document.getElementById("kiosk-idle-warning")) { restartIdleTimer(); }
    }, { passive: true });
  });
  window.addEventListener("online", flush);
  window.addEventListener("pageshow", function () { resetForm(); flush(); });
  // Leaving the page (a reload, the kiosk's browser restarting) ends the sends under way: their
  // answers are kept, and the next load sends them again (intake stores a submission id once).
  window.addEventListener("pagehide", function () {
    Object.keys(inFlight).forEach(function (id) { keep(inFlight[id]); });
  });
  setInterval(flush, retryMs * 2);
  pruneAll();
  flush();
})();
