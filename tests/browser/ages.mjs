// Forms that fit the respondent's age, in real Chromium. A 9-year-old on the kiosk: the child's
// title and intro, no legal text, faces as large single-tap tiles (a tap on the face chooses it
// and the chosen one is marked by more than colour, with a focus ring for keyboards), the
// child's thanks with 116 111 and 112 as tap-to-call links, and a fresh form by itself after the
// thanks unless the child asks to keep reading. A 15-year-old on a 390 px phone: the young
// person's title, NPS 0-10 on one row with targets of at least 24 px, no horizontal scroll, and
// after a worrying comment the young person's help with 116 111, not the adults' texts.
// axe-core and a screenshot on every page.
import { answerForm, check, input, inspect, run, submit } from "./lib.mjs";

const legal = input.legal_words;

async function noLegalText(page, where) {
  const text = (await page.locator("main").innerText()).toLowerCase();
  for (const word of legal) {
    check(!text.includes(word), `${where}: legal text "${word}" shown to a child or young person`);
  }
}

async function titled(page, want, where) {
  const title = await page.title();
  const h1 = (await page.locator("h1").first().innerText()).trim();
  check(title.includes(want), `${where}: page title "${title}", expected the age band's "${want}"`);
  check(!title.includes(input.survey_title) && h1 !== input.survey_title, `${where}: the adults' survey title is shown (${title} / ${h1})`);
}

async function noHorizontalScroll(page, where) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  check(scroll <= client, `${where}: ${scroll} px wide in a ${client} px window (horizontal scroll)`);
}

async function box(locator) {
  return locator.evaluate((e) => {
    const r = e.getBoundingClientRect();
    return { top: r.top, left: r.left, width: r.width, height: r.height };
  });
}

// How a tile looks, to compare a chosen one with the others.
async function look(tile) {
  return tile.evaluate((e) => {
    const s = getComputedStyle(e);
    const after = getComputedStyle(e, "::after").content;
    return {
      border: parseFloat(s.borderTopWidth),
      background: s.backgroundColor,
      outline: s.outlineStyle === "none" ? 0 : parseFloat(s.outlineWidth),
      mark: after && after !== "none" && after !== "normal" ? after : "",
    };
  });
}

async function queueLength(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem("kaiku-kiosk-queue:" + location.pathname) || "[]").length);
}

async function waitForEmptyQueue(page) {
  const deadline = Date.now() + 60000;
  while ((await queueLength(page)) > 0) {
    check(Date.now() < deadline, `the kiosk queue still holds ${await queueLength(page)} answers after 60 s`);
    await page.waitForTimeout(250);
  }
}

async function isFresh(page) {
  return page.evaluate(() => {
    const form = document.querySelector("form[data-kiosk]");
    return !document.getElementById("kiosk-thanks") && !form.hidden && form.querySelectorAll("input:checked").length === 0;
  });
}

// Answers every face question by tapping the face image itself.
async function tapFaces(page, index) {
  const questions = page.locator("fieldset[data-question]:has(.scale.faces)");
  for (let i = 0; i < (await questions.count()); i++) {
    await questions.nth(i).locator("svg.face").nth(index).click();
  }
}

async function kiosk(browser) {
  const context = await browser.newContext({ viewport: { width: 800, height: 1280 }, hasTouch: true });
  const page = await context.newPage();
  await page.goto(input.kiosk_url);
  await titled(page, input.child_title, "kiosk form");
  await noLegalText(page, "kiosk form");
  const intro = await page.locator("p.intro").innerText();
  check(intro === input.child_intro, `kiosk form: intro "${intro}"`);
  await inspect(page, "ages-1-kiosk-child-form");

  // Every face is a tile of at least 64 px, its image too.
  const tiles = page.locator(".scale.faces label.tile-label");
  const count = await tiles.count();
  check(count >= 3, `kiosk form: ${count} face tiles`);
  for (let i = 0; i < count; i++) {
    const b = await box(tiles.nth(i));
    check(b.width >= 64 && b.height >= 64, `face tile ${i} is ${b.width}x${b.height} px, under 64 px`);
    const f = await box(tiles.nth(i).locator("svg.face"));
    check(f.width >= 64 && f.height >= 64, `face ${i} is ${f.width}x${f.height} px, under 64 px`);
  }

  // A tap on the face image chooses it, and the chosen tile is marked by more than colour.
  const first = page.locator("fieldset[data-question]:has(.scale.faces)").first();
  await first.locator("svg.face").nth(2).click();
  const radios = first.locator("input.tile-input");
  check(await radios.nth(2).isChecked(), "tapping the face image did not choose it");
  const chosen = await look(first.locator(".tile").nth(2));
  const other = await look(first.locator(".tile").nth(0));
  check(chosen.border >= other.border + 2, `the chosen face's border is ${chosen.border} px, others ${other.border} px`);
  check(chosen.mark.includes("\u2713"), `the chosen face has no check mark (${chosen.mark})`);
  check(chosen.background !== other.background, "the chosen face's fill does not change");
  await inspect(page, "ages-2-kiosk-face-chosen");

  // From the keyboard: the arrow key moves the choice, and the focused tile has a visible ring.
  await radios.nth(2).focus();
  await page.keyboard.press("ArrowLeft");
  check(await radios.nth(1).isChecked(), "the arrow key did not move the choice");
  const focused = await look(first.locator(".tile").nth(1));
  check(focused.outline >= 2, `the focused face has no visible focus ring (${focused.outline} px)`);
  await inspect(page, "ages-3-kiosk-face-focused");

  // Sent: the child's thanks and help, with 116 111 and 112 to tap. Asked to wait, it stays.
  await tapFaces(page, 2);
  await submit(page);
  const thanks = page.locator("#kiosk-thanks");
  await thanks.waitFor();
  const text = await thanks.innerText();
  check(text.includes(input.child_thanks), `kiosk thanks: "${text}" lacks the child's thanks`);
  for (const number of ["116111", "112"]) {
    check((await thanks.locator(`.guidance a[href="tel:${number}"]`).count()) === 1, `kiosk thanks: no tel:${number} link`);
  }
  await noLegalText(page, "kiosk thanks");
  await page.locator("#kiosk-stay").click();
  await inspect(page, "ages-4-kiosk-child-thanks");
  await page.waitForTimeout((input.return_seconds + 1) * 1000);
  check((await thanks.count()) === 1, "the thanks left the screen although the child asked to keep reading");
  await page.locator("#kiosk-next").click();
  check(await isFresh(page), "'next respondent' did not give a fresh form");

  // Sent again and left alone: a fresh form after the return time, not before.
  await tapFaces(page, 0);
  await submit(page);
  await thanks.waitFor();
  const shown = Date.now();
  await page.waitForFunction(() => !document.getElementById("kiosk-thanks"), null, {
    timeout: (input.return_seconds + 10) * 1000,
  });
  const waited = Date.now() - shown;
  check(waited >= input.return_seconds * 1000 - 1000, `the thanks went after ${waited} ms, before ${input.return_seconds} s`);
  check(await isFresh(page), "the kiosk did not return to a fresh form");
  await inspect(page, "ages-5-kiosk-fresh-form");
  await waitForEmptyQueue(page);
  await context.close();
  return { waited };
}

async function phone(browser) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  await page.goto(input.phone_url);
  await titled(page, input.young_title, "phone form");
  await noLegalText(page, "phone form");
  await noHorizontalScroll(page, "phone form");

  // NPS 0-10 on one row, each target at least 24 px (WCAG 2.5.8).
  const cells = page.locator('fieldset[data-question="nps"] label.tile-label');
  check((await cells.count()) === 11, `phone form: ${await cells.count()} NPS options`);
  const boxes = [];
  for (let i = 0; i < 11; i++) {
    boxes.push(await box(cells.nth(i)));
  }
  const tops = new Set(boxes.map((b) => Math.round(b.top)));
  check(tops.size === 1, `NPS options on ${tops.size} rows at 390 px: tops ${[...tops].join(", ")}`);
  for (const [i, b] of boxes.entries()) {
    check(b.width >= 24 && b.height >= 24, `NPS ${i} is ${b.width}x${b.height} px, under 24 px`);
  }
  await inspect(page, "ages-6-phone-form-390");

  // Answered with a worry in the open text: the young person's help, with 116 111 to tap.
  await answerForm(page, { nps: 10, text: input.worry });
  const nps = await look(page.locator('fieldset[data-question="nps"] .tile').nth(10));
  const plain = await look(page.locator('fieldset[data-question="nps"] .tile').nth(9));
  check(nps.background !== plain.background && nps.border > plain.border, "the chosen NPS number is not marked");
  await inspect(page, "ages-7-phone-answered");
  await submit(page);
  await page.waitForURL(/\/thanks/);
  await titled(page, input.young_title, "phone thanks");
  await noLegalText(page, "phone thanks");
  await noHorizontalScroll(page, "phone thanks");
  const help = page.locator('.guidance[data-guidance="young-help"]');
  check((await help.count()) === 1, "phone thanks: no young person's help after a worrying comment");
  check((await help.locator('a[href="tel:116111"]').count()) === 1, "phone thanks: 116 111 is not a tel: link");
  const body = await page.locator("main").innerText();
  check(body.includes(input.young_thanks), `phone thanks: "${body}" lacks the young person's thanks`);
  await inspect(page, "ages-8-phone-thanks");
  await context.close();
  return { nps_rows: tops.size };
}

await run(async (browser) => {
  const kioskResult = await kiosk(browser);
  const phoneResult = await phone(browser);
  return { kiosk: kioskResult, phone: phoneResult };
});
