// The staff console in real Chromium: a unit manager and county staff sign in, each sees
// exactly their units and the figures analytics gives (passed in by tests/console.rs), the
// manager walks the results review and records and follows up a development target, county
// staff create and publish a survey from the THL template. axe-core runs on every page and a
// screenshot of each is kept.
import { check, input, inspect, run } from "./lib.mjs";

async function signIn(browser, who, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${input.url}/results?lang=en`);
  check(page.url().includes("/login"), `${name}: not sent to the login page but to ${page.url()}`);
  await inspect(page, `${name}-1-login`);
  await page.fill("#username", who.username);
  await page.fill("#password", who.password);
  await page.click('form[action="/login"] button[type="submit"]');
  await page.waitForURL(/\/results/);
  return { context, page };
}

async function checkFigure(page, selector, expected, what) {
  const card = page.locator(selector);
  if (expected.suppressed) {
    check((await card.locator('[data-suppressed="true"]').count()) === 1, `${what}: not shown as suppressed`);
    return;
  }
  check((await card.locator('[data-suppressed="true"]').count()) === 0, `${what}: shown as suppressed, analytics shows it`);
  const nps = await card.locator("[data-nps]").first().getAttribute("data-nps");
  const n = await card.locator("[data-n]").first().getAttribute("data-n");
  check(nps === expected.nps && Number(n) === expected.n, `${what}: NPS ${nps} n ${n}, analytics says ${expected.nps} n ${expected.n}`);
}

// The dashboard: the unit choice lists exactly `who.units`, the headline and the unit table
// match analytics, and another area's unit is refused.
async function dashboard(page, who, name) {
  await page.goto(`${input.url}/results?survey=${input.survey_id}&period=spring&lang=en`);
  const options = await page.locator("#f-unit option").evaluateAll((os) => os.map((o) => o.value));
  check(JSON.stringify(options) === JSON.stringify(who.units), `${name}: units offered ${JSON.stringify(options)}, expected ${JSON.stringify(who.units)}`);
  const chosen = await page.locator("#f-unit").inputValue();
  check(chosen === who.top, `${name}: shows ${chosen} first, expected ${who.top}`);
  await checkFigure(page, "#client-nps", who.figures[who.top], `${name} headline`);
  // The unit table is analytics' grouped figure, including its secondary suppression.
  const rows = await page.locator("#client-units tbody tr").evaluateAll((rs) => rs.map((r) => r.getAttribute("data-unit")));
  const expectedRows = Object.keys(who.unit_rows);
  check(JSON.stringify(rows) === JSON.stringify(expectedRows), `${name}: unit rows ${JSON.stringify(rows)}, expected ${JSON.stringify(expectedRows)}`);
  for (const unit of expectedRows) {
    await checkFigure(page, `#client-units tr[data-unit="${unit}"]`, who.unit_rows[unit], `${name} ${unit}`);
  }
  // Each role's charts sit in its own section (ids start with the role); responses per role
  // is the one chart above the sections.
  for (const id of ["client-chart-nps-trend", "client-chart-nps-distribution", "client-chart-statements", "client-chart-volume-channel", "chart-volume-role"]) {
    check((await page.locator(`#${id} svg[role="img"]`).count()) === 1, `${name}: no chart ${id}`);
  }
  await inspect(page, `${name}-2-results`);
  // Every unit below the top one, chosen through the filter form, matches analytics too.
  for (const unit of who.units.slice(1)) {
    await page.selectOption("#f-unit", unit);
    await page.click("form.filters button[type=submit]");
    await page.waitForLoadState();
    await checkFigure(page, "#client-nps", who.figures[unit], `${name} ${unit} headline`);
  }
  if (who.foreign_unit) {
    const response = await page.goto(`${input.url}/results?survey=${input.survey_id}&unit=${who.foreign_unit}&lang=en`);
    check(response.status() === 404, `${name}: ${who.foreign_unit} answered ${response.status()}`);
    await inspect(page, `${name}-3-foreign-unit`);
  }
}

await run(async (browser) => {
  const result = {};

  // The unit manager: results, then the results review of school A1 in spring.
  const manager = await signIn(browser, input.manager, "manager");
  let page = manager.page;
  await dashboard(page, input.manager, "manager");
  const surveysLink = await page.locator('nav a[href="/surveys"]').count();
  check(surveysLink === 0, "manager: survey set-up is offered");

  const r = input.review;
  await page.goto(`${input.url}/review?survey=${input.survey_id}&unit=${r.unit}&period=${r.period}&lang=en`);
  await checkFigure(page, "#client-nps", input.manager.figures[r.unit], "review headline");
  const positive = await page.locator("ul.feedback.positive li").allInnerTexts();
  check(positive.includes(r.positive), `review: positive feedback ${JSON.stringify(positive)} lacks "${r.positive}"`);
  const all = await page.locator("ul.feedback li").allInnerTexts();
  check(all.indexOf(r.positive) < all.indexOf(r.other) && all.includes(r.other), `review: positive feedback is not first: ${JSON.stringify(all)}`);
  check((await page.locator("#client-changes").count()) === 1, "review: no changes table");
  await inspect(page, "manager-4-review");
  await page.fill("#target-text", r.target);
  await page.click("#new-target button[type=submit]");
  await page.waitForURL(/saved=1/);
  const target = page.locator(".target").filter({ hasText: r.target });
  check((await target.count()) === 1, "review: the recorded target is not listed");
  await inspect(page, "manager-5-target-recorded");
  await target.locator('select[name="progress"]').selectOption("TARGET_PROGRESS_IN_PROGRESS");
  await target.locator('input[name="note"]').fill(r.note);
  await target.locator("button[type=submit]").click();
  await page.waitForURL(/saved=1/);
  const progress = await page.locator(".target [data-progress]").first().getAttribute("data-progress");
  check(progress === "TARGET_PROGRESS_IN_PROGRESS", `review: progress ${progress} after the follow-up`);
  await inspect(page, "manager-6-target-followed-up");
  // The same review in Finnish and Swedish.
  for (const lang of ["fi", "sv"]) {
    await page.goto(`${input.url}/review?survey=${input.survey_id}&unit=${r.unit}&period=${r.period}&lang=${lang}`);
    check((await page.locator("html").getAttribute("lang")) === lang, `review: not in ${lang}`);
    await inspect(page, `manager-7-review-${lang}`);
  }
  await page.goto(`${input.url}/reports?lang=en`);
  await inspect(page, "manager-8-reports");
  await manager.context.close();

  // County staff: every unit, then a new survey from the THL template, published.
  const staff = await signIn(browser, input.staff, "staff");
  page = staff.page;
  await dashboard(page, input.staff, "staff");
  await page.goto(`${input.url}/surveys?lang=en`);
  await inspect(page, "staff-3-surveys");
  await page.selectOption("#template", "thl-national");
  await page.fill("#title-fi", input.new_survey.title);
  await page.check(`input[name="unit"][value="${input.new_survey.unit}"]`);
  await page.click("#new-survey button[type=submit]");
  await page.waitForURL(/\/surveys\/[0-9a-f-]{36}$/);
  const created = page.url().split("/").pop();
  check((await page.locator("#status").getAttribute("data-status")) === "SURVEY_STATUS_DRAFT", "new survey: not a draft");
  await inspect(page, "staff-4-draft");
  // A collection period for the draft, published with it.
  const period = input.new_survey.period;
  await page.fill("#add-period #period-id", period.id);
  await page.fill("#add-period #starts-on", period.starts_on);
  await page.fill("#add-period #ends-on", period.ends_on);
  await page.click("#add-period button[type=submit]");
  await page.waitForLoadState();
  check((await page.locator(`#periods li[data-period="${period.id}"]`).count()) === 1, "new survey: the period is not listed");
  await page.click("#publish button[type=submit]");
  await page.waitForURL(/published=1/);
  const status = await page.locator("#status").getAttribute("data-status");
  check(status === "SURVEY_STATUS_PUBLISHED", `new survey: status ${status} after publishing`);
  await inspect(page, "staff-5-published");
  // Links and printouts for the new survey: a QR code and a poster for the unit.
  await page.selectOption("#links select[name=unit]", input.new_survey.unit);
  await page.selectOption("#links select[name=channel]", "qr");
  await page.click("#links button[type=submit]");
  await page.waitForURL(/\/links\?/);
  check((await page.locator("figure.qr svg").count()) === 1, "links: no QR code");
  const poster = await page.locator("#poster-link").getAttribute("href");
  check(poster && poster.endsWith("/poster.pdf"), `links: poster link ${poster}`);
  await inspect(page, "staff-6-links");
  // A new unit under an area, then renamed.
  const u = input.new_unit;
  await page.goto(`${input.url}/units?lang=en`);
  await inspect(page, "staff-7-units");
  await page.fill("#unit-id", u.id);
  await page.selectOption("#parent", u.parent);
  await page.selectOption("#level", "UNIT_LEVEL_UNIT");
  await page.fill("#name-fi", u.name);
  await page.fill("#name-sv", `${u.name} (sv)`);
  await page.fill("#name-en", `${u.name} (en)`);
  await page.click("#new-unit button[type=submit]");
  await page.waitForURL(/\/units$/);
  check((await page.locator(`#units tr[data-unit="${u.id}"]`).count()) === 1, "units: the new unit is not listed");
  await page.goto(`${input.url}/units/${u.id}?lang=en`);
  await inspect(page, "staff-8-rename-unit");
  await page.fill("#name-fi", u.renamed);
  await page.click("#rename-unit button[type=submit]");
  await page.waitForURL(/\/units$/);
  await staff.context.close();
  result.created_survey = created;
  return result;
});
