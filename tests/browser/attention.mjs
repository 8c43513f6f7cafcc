// A worrying comment, in two acts. "respond": a pupil writes it on the web form (and is shown
// where young people can turn). "manage": the unit's manager finds it in the console's attention
// list with what to do about it, never on the shared results review; asks for its erasure, and
// the list no longer has it. axe-core on every page; a screenshot of each is kept.
import { answerForm, check, input, inspect, run, submit } from "./lib.mjs";

async function respond(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(input.form_url);
  await answerForm(page, { nps: 7, text: input.concern });
  await inspect(page, "0-respondent-form");
  await submit(page);
  await page.waitForURL(/\/thanks/);
  const help = await page.locator('a[href="tel:116111"]').count();
  check(help > 0, "respondent: no tap-to-call 116 111 after a worrying comment");
  await inspect(page, "0-respondent-thanks");
  await context.close();
  return {};
}

await run(async (browser) => {
  if (input.phase === "respond") {
    return respond(browser);
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${input.url}/login?lang=fi`);
  await page.fill("#username", input.username);
  await page.fill("#password", input.password);
  await page.click('form[action="/login"] button[type="submit"]');
  await page.waitForURL(/\/results/);

  // The review shown in a staff meeting: the ordinary feedback, not the concern.
  await page.goto(`${input.url}/review?${input.query}&lang=fi`);
  const review = await page.locator("main").textContent();
  check(!review.includes(input.concern), "review: the concern is on the shared page");
  for (const text of input.ordinary) {
    check(review.includes(text), `review: "${text}" is missing`);
  }
  await inspect(page, "1-review");

  // The attention list, reached from the navigation.
  await page.click('nav a[href="/attention"]');
  await page.waitForURL(/\/attention/);
  await page.goto(`${input.url}/attention?${input.query}&lang=fi`);
  const concern = page.locator("article.attention").filter({ hasText: input.concern });
  check((await concern.count()) === 1, "attention: the concern is not listed");
  const flags = await concern.getAttribute("data-flags");
  check(flags === "child_protection", `attention: flags ${flags}`);
  const guidance = await concern.locator('[data-guidance="child_protection"]').textContent();
  check(guidance.includes("25 §") && guidance.includes("112"), `attention: guidance ${guidance}`);
  for (const text of input.ordinary) {
    check(!(await page.locator("main").textContent()).includes(text), `attention: "${text}" is listed`);
  }
  await inspect(page, "2-attention");
  await page.goto(`${input.url}/attention?${input.query}&lang=sv`);
  await inspect(page, "3-attention-sv");

  // Erasure, asked for with a reason from the list.
  await page.goto(`${input.url}/attention?${input.query}&lang=fi`);
  const item = page.locator("article.attention").filter({ hasText: input.concern });
  await item.locator("details.erase summary").click();
  await item.locator('select[name="reason"]').selectOption("personal_data");
  await item.locator('button[type="submit"]').click();
  await page.waitForURL(/erased=/);
  check((await page.locator("#erased").count()) === 1, "attention: no notice of the erasure");
  check(!(await page.locator("main").textContent()).includes(input.concern), "attention: still listed after erasure");
  await inspect(page, "4-erased");
  await context.close();
  return {};
});
