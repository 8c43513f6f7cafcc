// Kiosk mode in real Chromium: after sending, and after the idle time, the form is empty and
// has a new submission id; with the network cut, three respondents answer, the answers wait in
// the device's queue, and all three are sent once the network returns.
import { answerForm, check, input, inspect, run, submit } from "./lib.mjs";

async function isEmpty(page) {
  return page.evaluate(() => {
    const form = document.querySelector("form[data-kiosk]");
    const checked = form.querySelectorAll("input:checked").length;
    const typed = Array.from(form.querySelectorAll("textarea")).filter((t) => t.value !== "").length;
    return checked === 0 && typed === 0 && !form.hidden;
  });
}

async function submissionId(page) {
  return page.locator('input[name="submission_id"]').inputValue();
}

async function queueLength(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem("kaiku-kiosk-queue:" + location.pathname) || "[]").length);
}

async function answerOne(page, nps, name) {
  await answerForm(page, { nps, text: `Kioski ${nps}` });
  await submit(page);
  await page.locator("#kiosk-thanks").waitFor();
  if (name) {
    await inspect(page, name);
  }
  await page.locator("#kiosk-next").click();
  check(await isEmpty(page), "the form is not empty for the next respondent");
}

await run(async (browser) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(input.kiosk_url);
  await inspect(page, "kiosk-1-start");

  // A required question left empty: told next to it, nothing queued.
  await submit(page);
  check((await page.locator(".kiosk-error").count()) >= 1, "no error for an empty kiosk send");
  check((await queueLength(page)) === 0, "an invalid answer was queued");
  await inspect(page, "kiosk-2-errors");

  // Sent: thank-you, then an empty form with a new submission id.
  const firstId = await submissionId(page);
  await answerOne(page, 10, "kiosk-3-thanks");
  check((await submissionId(page)) !== firstId, "the next respondent got the same submission id");
  await inspect(page, "kiosk-4-next");

  // Idle: half-answered and left alone, the kiosk warns 20 s ahead; "continue" keeps the
  // answers; left alone again, the form empties itself.
  const firstOption = page.locator("form fieldset[data-question] input").first();
  await firstOption.check();
  check(!(await isEmpty(page)), "could not start answering");
  const warning = page.locator("#kiosk-idle-warning");
  await warning.waitFor({ timeout: (input.idle_seconds - 20 + 5) * 1000 });
  await inspect(page, "kiosk-5-idle-warning");
  await page.locator("#kiosk-continue").click();
  check((await warning.count()) === 0 && (await firstOption.isChecked()), "continue did not keep the answers");
  await warning.waitFor({ timeout: (input.idle_seconds - 20 + 5) * 1000 });
  await page.waitForFunction(() => !document.getElementById("kiosk-idle-warning"), null, { timeout: 25000 });
  check(await isEmpty(page), "the kiosk kept a half-answered form after the idle time");
  await inspect(page, "kiosk-6-after-idle");

  // Wait until the online answer has left the queue.
  await waitForEmptyQueue(page);
  await context.close();

  // Offline: a second kiosk, network cut after loading.
  const offline = await browser.newContext();
  const kiosk = await offline.newPage();
  await kiosk.goto(input.offline_kiosk_url);
  await offline.setOffline(true);
  for (const nps of [3, 7, 9]) {
    await answerOne(kiosk, nps, nps === 3 ? "kiosk-7-offline-thanks" : null);
  }
  const queued = await queueLength(kiosk);
  check(queued === 3, `${queued} answers queued while offline, expected 3`);
  await offline.setOffline(false);
  await waitForEmptyQueue(kiosk);
  await offline.close();
  return { online: 1, offline: 3 };
});

async function waitForEmptyQueue(page) {
  const deadline = Date.now() + 60000;
  while ((await queueLength(page)) > 0) {
    check(Date.now() < deadline, `the kiosk queue still holds ${await queueLength(page)} answers after 60 s`);
    await page.waitForTimeout(250);
  }
}
