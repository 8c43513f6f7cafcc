// What a kiosk tablet keeps of its respondents' answers, in real Chromium. An answer (open text
// included) is in localStorage only while it cannot be sent: with the submit endpoint
// unreachable (the POST aborted in the page, the tablet still online) it is kept, and it is gone
// once the kiosk has sent it; an answer the server takes at once is never written. An answer
// older than the server's window for a late kiosk answer (an 8-day-old one) is deleted on load
// without being sent, also from the queue of another kiosk link on the same tablet, while a
// 1-day-old one beside it is sent. Input: kiosk_url (a kiosk link of a survey open for the past
// week), keep_seconds (the window the page is expected to give, 7 days). Result: the submission
// ids the server stored (offline, online, kept) and the one it must never see (stale).
import { answerForm, check, input, inspect, run, submit } from "./lib.mjs";

const PREFIX = "kaiku-kiosk-queue:";
const path = new URL(input.kiosk_url).pathname;
const DAY_MS = 24 * 60 * 60 * 1000;

// Every localStorage.setItem the page makes, by key, from before its own scripts run.
function recordWrites() {
  const writes = [];
  window.__kioskWrites = writes;
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    writes.push(key);
    return setItem.call(this, key, value);
  };
}

async function stored(page, key = PREFIX + path) {
  return page.evaluate((k) => localStorage.getItem(k), key);
}

async function queue(page) {
  return JSON.parse((await stored(page)) || "[]");
}

async function queueWrites(page) {
  return page.evaluate((prefix) => window.__kioskWrites.filter((k) => k.startsWith(prefix)).length, PREFIX);
}

async function submissionId(page) {
  return page.locator('input[name="submission_id"]').inputValue();
}

// The kiosk's POSTs of answers, by submission id, with the status each got (or "failed").
function watchSends(page) {
  const sends = [];
  page.on("requestfinished", async (request) => {
    if (request.method() !== "POST" || new URL(request.url()).pathname !== path) { return; }
    const id = new URLSearchParams(request.postData() || "").get("submission_id");
    const response = await request.response();
    sends.push({ id, status: response ? response.status() : "none" });
  });
  page.on("requestfailed", (request) => {
    if (request.method() !== "POST" || new URL(request.url()).pathname !== path) { return; }
    sends.push({ id: new URLSearchParams(request.postData() || "").get("submission_id"), status: "failed" });
  });
  return sends;
}

// The submit endpoint unreachable from the page: the kiosk's POST fails as if the premises'
// network were down, while the browser still reports itself online (the case where the kiosk
// must try, fail and only then keep the answer). The form page itself still loads.
async function cutSubmit(page) {
  const matcher = (url) => url.pathname === path;
  const handler = (route) => (route.request().method() === "POST" ? route.abort("internetdisconnected") : route.continue());
  await page.route(matcher, handler);
  return () => page.unroute(matcher, handler);
}

async function waitFor(what, condition, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    check(Date.now() < deadline, `${typeof what === "function" ? what() : what} not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function offlineThenSent(browser) {
  const context = await browser.newContext();
  await context.addInitScript(recordWrites);
  const page = await context.newPage();
  const sends = watchSends(page);
  await page.goto(input.kiosk_url);
  const keep = await page.locator("form[data-kiosk]").getAttribute("data-keep-seconds");
  check(Number(keep) === input.keep_seconds, `the page gives the kiosk ${keep} s to keep an answer, expected ${input.keep_seconds}`);

  // Offline: the answer, open text and all, waits in localStorage.
  const restore = await cutSubmit(page);
  const text = `Odotin pitkään ${Date.now()}`;
  const offlineId = await submissionId(page);
  const textarea = page.locator("form textarea").first();
  const textName = (await textarea.count()) > 0 ? await textarea.getAttribute("name") : null;
  await answerForm(page, { nps: 6, text });
  await submit(page);
  await page.locator("#kiosk-thanks").waitFor();
  await waitFor("the unsent answer in localStorage", async () => (await queue(page)).length === 1);
  const [kept] = await queue(page);
  check(kept.id === offlineId, `the kept answer is ${kept.id}, expected ${offlineId}`);
  if (textName) {
    check(new URLSearchParams(kept.body).get(textName) === text, "the kept answer lacks its open text");
  }
  await waitFor("the failed send being seen", async () => sends.some((s) => s.id === offlineId && s.status === "failed"), 10000);
  await inspect(page, "kiosk-storage-1-offline-thanks");

  // The network back: the kiosk sends it by itself, and nothing of it stays on the tablet.
  await restore();
  await waitFor("the sent answer leaving localStorage", async () => (await stored(page)) === null);
  await waitFor(() => `the kept answer stored (sends: ${JSON.stringify(sends)})`, async () => sends.some((s) => s.id === offlineId && s.status === 200), 10000);

  // Online: an answer the server takes at once is never written.
  await page.locator("#kiosk-next").click();
  const onlineId = await submissionId(page);
  const writesBefore = await queueWrites(page);
  await answerForm(page, { nps: 9, text: "Ystävällinen vastaanotto" });
  const response = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === path);
  await submit(page);
  check((await response).status() === 200, "the online answer was not stored at once");
  await page.locator("#kiosk-thanks").waitFor();
  // Past the point where a slow send would have been kept.
  await page.waitForTimeout(4000);
  check((await queueWrites(page)) === writesBefore, "an answer sent at once was written to localStorage");
  check((await stored(page)) === null, "localStorage holds a queue after an answer sent at once");
  await inspect(page, "kiosk-storage-2-online-thanks");
  await context.close();
  return { offlineId, onlineId };
}

async function staleDropped(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(input.kiosk_url);
  // Two answers as the kiosk keeps them, built from this form: one given 8 days ago (past the
  // window) and one given yesterday; and an 8-day-old one of another kiosk link on this tablet.
  await answerForm(page, { nps: 7, text: "Jonotin kauan" });
  const { staleId, keptId } = await page.evaluate(({ prefix, path, dayMs }) => {
    const form = document.querySelector("form[data-kiosk]");
    const uuid = () => {
      const b = crypto.getRandomValues(new Uint8Array(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    };
    const entry = (daysAgo) => {
      const data = new URLSearchParams(new FormData(form));
      const id = uuid();
      data.set("submission_id", id);
      data.set("answered_at", new Date(Date.now() - daysAgo * dayMs).toISOString());
      return { id, body: data.toString() };
    };
    const stale = entry(8);
    const kept = entry(1);
    localStorage.setItem(prefix + path, JSON.stringify([stale, kept]));
    localStorage.setItem(prefix + "/f/an-earlier-kiosk-link", JSON.stringify([entry(8)]));
    return { staleId: stale.id, keptId: kept.id };
  }, { prefix: PREFIX, path, dayMs: DAY_MS });

  // The next load (the tablet restarted) drops the stale answer before any send.
  const sends = watchSends(page);
  await page.reload();
  const afterLoad = (await queue(page)).map((q) => q.id);
  check(!afterLoad.includes(staleId), `the 8-day-old answer is still on the tablet after loading: ${afterLoad}`);
  check((await stored(page, PREFIX + "/f/an-earlier-kiosk-link")) === null, "another link's 8-day-old answer is still on the tablet");
  await waitFor("yesterday's answer being sent", async () => (await stored(page)) === null);
  await waitFor(() => `yesterday's answer stored (sends: ${JSON.stringify(sends)})`, async () => sends.some((s) => s.id === keptId && s.status === 200), 10000);
  check(!sends.some((s) => s.id === staleId), "the 8-day-old answer was sent");
  await inspect(page, "kiosk-storage-3-after-stale");
  await context.close();
  return { staleId, keptId };
}

await run(async (browser) => {
  const { offlineId, onlineId } = await offlineThenSent(browser);
  const { staleId, keptId } = await staleDropped(browser);
  return { stored: [offlineId, onlineId, keptId], never_sent: staleId };
});
