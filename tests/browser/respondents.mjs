// Every respondent on the console's results and review pages: the clients' and the guardians'
// figures side by side by default, each section saying whose answers it covers, the children's
// face questions with their counts, NPS "not asked" rather than "no answers" for 7-12-year-olds,
// and a checkbox per role. The expected figures are tests/every_respondent.rs's own count of
// what it sent. axe-core runs on every page and a screenshot of each is kept.
import { check, input, inspect, run } from "./lib.mjs";

const roles = ["client", "guardian"];

async function attribute(page, selector, name, what) {
  const locator = page.locator(selector);
  check((await locator.count()) === 1, `${what}: ${selector} found ${await locator.count()} times`);
  return locator.getAttribute(name);
}

async function text(page, selector, what) {
  const locator = page.locator(selector);
  check((await locator.count()) === 1, `${what}: ${selector} found ${await locator.count()} times`);
  return (await locator.textContent()).trim();
}

// One role's section matches what was sent: NPS, responses, statements and faces.
async function checkSection(page, role, where, { responses = true } = {}) {
  const want = input.expected[role];
  const what = `${where} ${role}`;
  const nps = await attribute(page, `#${role}-nps [data-nps]`, "data-nps", what);
  const n = await attribute(page, `#${role}-nps [data-n]`, "data-n", what);
  check(nps === want.nps.nps && Number(n) === want.nps.n, `${what}: NPS ${nps} n ${n}, sent ${want.nps.nps} n ${want.nps.n}`);
  if (responses) {
    const count = await attribute(page, `#${role}-responses [data-count]`, "data-count", what);
    check(Number(count) === want.responses, `${what}: ${count} responses, sent ${want.responses}`);
  }
  const coverage = await text(page, `[data-coverage="${role}"]`, what);
  check(coverage.length > 0, `${what}: the section does not say whose answers it covers`);
  for (const [key, statement] of Object.entries(want.statements)) {
    const row = `#${role}-chart-statements tr[data-question="${key}"]`;
    const sn = await attribute(page, `${row} [data-n]`, "data-n", `${what} ${key}`);
    const mean = await attribute(page, `${row} [data-mean]`, "data-mean", `${what} ${key}`);
    check(Number(sn) === statement.n && Math.abs(Number(mean) - statement.mean) < 0.005, `${what} ${key}: n ${sn} mean ${mean}, sent n ${statement.n} mean ${statement.mean}`);
  }
  for (const [key, face] of Object.entries(want.faces)) {
    const row = `#${role}-chart-faces tr[data-question="${key}"]`;
    const fn = await attribute(page, `${row} [data-n]`, "data-n", `${what} ${key}`);
    const best = await attribute(page, `${row} [data-best-share]`, "data-best-share", `${what} ${key}`);
    check(Number(fn) === face.n && Number(best) === face.best_share, `${what} ${key}: n ${fn} best ${best}, sent n ${face.n} best ${face.best_share}`);
    for (let i = 0; i < face.counts.length; i++) {
      const count = await text(page, `${row} [data-face="${i + 1}"]`, `${what} ${key} face ${i + 1}`);
      check(Number(count) === face.counts[i], `${what} ${key} face ${i + 1}: ${count}, sent ${face.counts[i]}`);
    }
  }
  if (Object.keys(want.faces).length === 0) {
    check((await page.locator(`#${role}-chart-faces`).count()) === 0, `${what}: faces shown to a role never asked them`);
  }
}

await run(async (browser) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${input.url}/login?lang=en`);
  await page.fill("#username", input.username);
  await page.fill("#password", input.password);
  await page.click('form[action="/login"] button[type="submit"]');
  await page.waitForURL(/\/results/);

  // Results: both roles by default, side by side, each with every figure.
  await page.goto(`${input.url}/results?${input.query}&lang=en`);
  for (const role of roles) {
    check(await page.locator(`#f-role-${role}`).isChecked(), `results: ${role} is not chosen by default`);
    await checkSection(page, role, "results");
  }
  const askedOf = await attribute(page, "#role-client [data-nps-asked-of]", "data-nps-asked-of", "results client");
  check(askedOf === "13-17,18-120", `results: NPS asked of ${askedOf}`);
  await inspect(page, "1-results-en");
  await page.goto(`${input.url}/results?${input.query}&lang=fi`);
  await inspect(page, "2-results-fi");

  // One role chosen with its checkbox: only that role's section.
  await page.goto(`${input.url}/results?${input.query}&lang=en`);
  await page.uncheck("#f-role-client");
  await page.click("form.filters button[type=submit]");
  await page.waitForLoadState();
  check((await page.locator("#role-client").count()) === 0, "results: clients shown after unchecking them");
  await checkSection(page, "guardian", "guardians only");
  await inspect(page, "3-results-guardians-only");

  // The 7-12-year-olds: NPS is not asked of them, and the page says so; their faces remain.
  await page.goto(`${input.url}/results?${input.query}&role=client&age=age_7_12&lang=en`);
  check((await page.locator('#client-nps[data-nps-not-asked="true"]').count()) === 1, "results 7-12: NPS not said to be not asked");
  check((await page.locator("#client-nps [data-nps]").count()) === 0, "results 7-12: an NPS figure for children never asked it");
  const faces = await attribute(page, '#client-chart-faces tr[data-question="child_overall"] [data-n]', "data-n", "results 7-12");
  check(Number(faces) === input.expected.client.faces.child_overall.n, `results 7-12: ${faces} face answers`);
  await inspect(page, "4-results-children");

  // The review: the same sections and figures.
  await page.goto(`${input.url}/review?${input.query}&lang=en`);
  for (const role of roles) {
    check(await page.locator(`#f-role-${role}`).isChecked(), `review: ${role} is not chosen by default`);
    await checkSection(page, role, "review", { responses: true });
  }
  await inspect(page, "5-review-en");
  await page.goto(`${input.url}/review?${input.query}&lang=fi`);
  await inspect(page, "6-review-fi");
  await context.close();
  return {};
});
