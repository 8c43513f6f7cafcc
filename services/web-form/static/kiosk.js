// Kaiku kiosk mode: a tablet in the waiting room. The form works without this script; with it,
// the kiosk (1) never shows the previous respondent's answers: after sending, or after a while
// without touch, the form is emptied and a fresh submission id is drawn; (2) keeps taking
// answers while the premises' network is down: each answer is queued in localStorage with its
// own submission id and sent when the network returns. Intake stores a submission id once, so
// re-sending after a lost reply never doubles an answer.
(function () {
  "use strict";
  var form = document.querySelector("form[data-kiosk]");
  if (!form) { return; }
  var QUEUE_KEY = "kaiku-kiosk-queue:" + location.pathname;
  var idleMs = Math.max(5, Number(form.dataset.idleSeconds) || 90) * 1000;
  var retryMs = 5000;
  var sending = false;
  var idleTimer = null;

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

  // Sends queued answers one at a time, oldest first. An answer leaves the queue only when the
  // server has stored it (200) or can never store it (422); anything else is retried later.
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
      if (response.status === 200 || response.status === 422) {
        writeQueue(readQueue().filter(function (q) { return q.id !== item.id; }));
        flush();
      } else {
        setTimeout(flush, retryMs);
      }
    }, function () {
      sending = false;
      setTimeout(flush, retryMs);
    });
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".kiosk-error"), function (e) { e.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll(".has-error"), function (q) {
      q.classList.remove("has-error");
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

  function resetForm() {
    form.reset();
    clearErrors();
    form.elements["submission_id"].value = uuid();
    var thanks = document.getElementById("kiosk-thanks");
    if (thanks) { thanks.remove(); }
    form.hidden = false;
    window.scrollTo(0, 0);
  }

  function showThanks() {
    form.hidden = true;
    var box = document.createElement("div");
    box.id = "kiosk-thanks";
    box.className = "kiosk-thanks";
    box.setAttribute("role", "status");
    var h = document.createElement("h2");
    h.textContent = form.dataset.thanksTitle;
    var p = document.createElement("p");
    p.textContent = form.dataset.thanksBody;
    var next = document.createElement("button");
    next.type = "button";
    next.id = "kiosk-next";
    next.textContent = form.dataset.next;
    next.addEventListener("click", resetForm);
    box.appendChild(h);
    box.appendChild(p);
    box.appendChild(next);
    form.parentNode.insertBefore(box, form);
    next.focus();
  }

  function restartIdleTimer() {
    if (idleTimer) { clearTimeout(idleTimer); }
    idleTimer = setTimeout(resetForm, idleMs);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var missing = missingRequired();
    if (missing.length > 0) {
      missing.forEach(function (q) {
        q.classList.add("has-error");
        var p = document.createElement("p");
        p.className = "error kiosk-error";
        p.textContent = form.dataset.errorRequired;
        var legend = q.querySelector("legend, label");
        legend.parentNode.insertBefore(p, legend.nextSibling);
      });
      var first = missing[0].querySelector("input, textarea");
      if (first) { first.focus(); }
      return;
    }
    var body = new URLSearchParams(new FormData(form)).toString();
    var queue = readQueue();
    queue.push({ id: form.elements["submission_id"].value, body: body });
    writeQueue(queue);
    form.reset();
    form.elements["submission_id"].value = uuid();
    showThanks();
    flush();
  });

  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, restartIdleTimer, { passive: true });
  });
  window.addEventListener("online", flush);
  window.addEventListener("pageshow", function () { resetForm(); flush(); });
  restartIdleTimer();
  setInterval(flush, retryMs * 2);
  flush();
})();
