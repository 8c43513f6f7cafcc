// Kaiku kiosk mode: a tablet in the waiting room. The form works without this script; with it,
// the kiosk (1) never shows the previous respondent's answers: after sending, or after a while
// without touch (with a warning 20 s before, and a button for more time), the form is emptied
// and a fresh submission id is drawn; (2) keeps taking answers while the premises' network is
// down: each answer is queued in localStorage with its own submission id and the time it was
// given, and sent when the network returns. Intake stores a submission id once and the read
// models count it once, so re-sending after a lost reply never doubles an answer. (3) The
// thank-you screen (drawn by the server for the respondent's age, in a template) returns to a
// fresh form after data-return-seconds, unless the respondent asks to keep reading (WCAG 2.2.1:
// the time limit can be turned off before it is reached; the idle timer then applies).
(function () {
  "use strict";
  var form = document.querySelector("form[data-kiosk]");
  if (!form) { return; }
  var QUEUE_KEY = "kaiku-kiosk-queue:" + location.pathname;
  var WARNING_MS = 20000;
  var idleMs = Math.max(WARNING_MS + 1000, (Number(form.dataset.idleSeconds) || 90) * 1000);
  var returnMs = Math.max(1, Number(form.dataset.returnSeconds) || 10) * 1000;
  var retryMs = 5000;
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

  function readQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }
  function writeQueue(queue) { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); }
  function dropFromQueue(id) { writeQueue(readQueue().filter(function (q) { return q.id !== id; })); }

  // Sends queued answers one at a time, oldest first. An answer leaves the queue when the server
  // has stored it (200) or never can (404 invalid link, 422 invalid or closed); anything else
  // (offline, 429, 5xx) is retried later.
  function flush() {
    if (sending) { return; }
    var queue = readQueue();
    if (queue.length === 0) { return; }
    sending = true;
    var item = queue[0];
    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Kaiku-Kiosk": "1" },
      body: item.body,
      credentials: "omit",
      cache: "no-store"
    }).then(function (response) {
      sending = false;
      if (response.status === 200 || response.status === 404 || response.status === 422) {
        dropFromQueue(item.id);
        flush();
      } else {
        setTimeout(flush, retryMs);
      }
    }, function () {
      sending = false;
      setTimeout(flush, retryMs);
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
    var queue = readQueue();
    queue.push({ id: form.elements["submission_id"].value, body: data.toString() });
    writeQueue(queue);
    form.reset();
    form.elements["submission_id"].value = uuid();
    showThanks();
    flush();
  });

  // Any touch or key counts as activity, except while the warning waits for its own button.
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () {
      if (!document.getElementById("kiosk-idle-warning")) { restartIdleTimer(); }
    }, { passive: true });
  });
  window.addEventListener("online", flush);
  window.addEventListener("pageshow", function () { resetForm(); flush(); });
  setInterval(flush, retryMs * 2);
  flush();
})();
