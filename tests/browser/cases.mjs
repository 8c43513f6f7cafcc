// Feedback handling in real Chromium: a respondent answers on the web form and asks to be
// contacted (a mistyped address first), then the unit manager works the case in the console:
// the inbox and overview, the case with its message and contact details, assign, start, note,
// reply, action, close; a phone call from before Easter is entered and shows as late; the
// handling report. axe-core runs on every page and a screenshot of each is kept.
import { answerForm, check, input, inspect, run, submit } from "./lib.mjs";

await run(async (browser) => {
  const result = {};

  // The respondent.
  const respondent = await (await browser.newContext()).newPage();
  await respondent.goto(input.form_url);
  await answerForm(respondent, { nps: 4, text: "Odotusaika oli pitkä." });
  await submit(respondent);
  await respondent.waitForURL(/\/thanks/);
  await inspect(respondent, "respondent-1-thanks");
  await respondent.locator(".contact-offer a").click();
  await respondent.waitForURL(/\/feedback\?/);
  check(await respondent.locator("#contact-requested").isChecked(), "contact is not preselected after an answer");
  await inspect(respondent, "respondent-2-feedback");
  await respondent.locator('label[for="kind-complaint"]').click();
  await respondent.fill("#message", input.message);
  await respondent.fill("#contact-name", "Maija Meikäläinen");
  await respondent.fill("#contact-email", "maija@example");
  await respondent.fill("#contact-phone", "040 123 4567");
  await submit(respondent);
  await respondent.waitForLoadState();
  check((await respondent.locator(".error-summary a[href='#contact-email']").count()) === 1, "the bad address is not named in the error summary");
  check((await respondent.locator("#message").inputValue()) === input.message, "the message was lost after the error");
  await inspect(respondent, "respondent-3-feedback-error");
  await respondent.fill("#contact-email", "maija@example.fi");
  await submit(respondent);
  await respondent.waitForURL(/\/feedback\/sent/);
  const sent = await respondent.locator("main").innerText();
  check(sent.includes(input.due_fi), `the sent page does not promise ${input.due_fi}: ${sent}`);
  await inspect(respondent, "respondent-4-sent");

  // The unit manager.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${input.console_url}/cases?lang=en`);
  await page.fill("#username", input.manager.username);
  await page.fill("#password", input.manager.password);
  await page.click('form[action="/login"] button[type="submit"]');
  await page.waitForURL(/\/cases/);
  const rows = await page.locator("#cases tbody tr").evaluateAll((rs) => rs.map((r) => r.getAttribute("data-case")));
  check(rows.length === 1, `inbox lists ${rows.length} cases, expected the respondent's one`);
  result.case_id = rows[0];
  const overview = await page.locator("#overview tbody tr").allInnerTexts();
  check(overview.length === 1 && overview[0].includes("Koulu A1"), `overview: ${JSON.stringify(overview)}`);
  await inspect(page, "manager-1-inbox");

  await page.click(`#cases tr[data-case="${result.case_id}"] a`);
  await page.waitForURL(/\/cases\/[0-9a-f-]+$/);
  check((await page.locator("#case-message").innerText()).includes(input.message), "the message is not shown");
  check((await page.locator("#case-contact").innerText()).includes("maija@example.fi"), "the contact details are not shown");
  await inspect(page, "manager-2-case");

  const step = async (form, fill, name) => {
    if (fill) {
      await fill();
    }
    await page.locator(`form[action$="/${form}"] button[type="submit"]`).click();
    await page.waitForURL(/saved=1/);
    check((await page.locator("#saved").count()) === 1, `${name}: no saved notice`);
    await inspect(page, `manager-${name}`);
  };
  await step("assign", () => page.fill("#assignee", input.manager.username), "3-assigned");
  check((await page.locator("#case-assignee").innerText()).includes(input.manager.username), "not assigned");
  await step("start", null, "4-started");
  await step("note", () => page.fill("#note-text", "Selvitin asian ajanvarauksesta."), "5-note");
  // Closing before the reply is refused with the reason on the page.
  await page.locator('form[action$="/close"] button[type="submit"]').click();
  await page.waitForLoadState();
  check((await page.locator("#refused").count()) === 1, "closing before the reply was not refused");
  await inspect(page, "manager-6-close-refused");
  await step("reply", async () => {
    await page.fill("#reply-text", "Soitin ja pahoittelin odotusta.");
    await page.locator('label[for="method-phone"]').click();
  }, "7-replied");
  await step("action", () => page.fill("#action-text", "Ajanvarausta lisätään iltapäiviin."), "8-action");
  await step("close", () => page.fill("#resolution", "Vastattu"), "9-closed");
  check((await page.locator("#case-state").innerText()) === "Closed", "the case is not closed");
  const history = await page.locator("#case-history li").count();
  check(history === 7, `history has ${history} entries, expected 7`);

  // A phone call from before Easter 2026.
  await page.goto(`${input.console_url}/cases/new?lang=en`);
  await inspect(page, "manager-10-new-case");
  await page.selectOption("#unit", "school-a1");
  await page.locator('label[for="kind-question"]').click();
  await page.fill("#received-on", "2026-04-01");
  await page.fill("#received-time", "09:30");
  await page.fill("#message", "Kysyi ajanvarauksesta.");
  await page.locator('label[for="contact-requested"]').click();
  await page.fill("#contact-phone", "040 765 4321");
  await page.locator('form[action="/cases"] button[type="submit"]').click();
  await page.waitForURL(/saved=1/);
  const due = await page.locator("#case-due").innerText();
  check(due.includes("10.4.2026") && due.includes("overdue"), `the phone case's due day: ${due}`);
  result.phone_case_id = page.url().split("/cases/")[1].split("?")[0];
  await inspect(page, "manager-11-phone-case");

  await page.goto(`${input.console_url}/cases?view=overdue&lang=en`);
  const late = await page.locator("#cases tbody tr").evaluateAll((rs) => rs.map((r) => r.getAttribute("data-case")));
  check(JSON.stringify(late) === JSON.stringify([result.phone_case_id]), `overdue view: ${JSON.stringify(late)}`);
  await inspect(page, "manager-12-overdue");

  await page.goto(`${input.console_url}/cases/report?lang=en`);
  const total = await page.locator('#handling-report tr[data-unit=""][data-kind=""] td').allInnerTexts();
  result.report_total = total;
  await inspect(page, "manager-13-report");
  return result;
});
