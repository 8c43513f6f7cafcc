// The public form in real Chromium: each case opens its link, optionally switches language the
// way a respondent would, sends the form empty (errors next to the questions), answers it and
// reaches the thank-you page. Extra pages (closed period, invalid link, guidance, paper entry)
// are opened for axe-core and screenshots only.
import { answerForm, check, input, inspect, run, submit } from "./lib.mjs";

await run(async (browser) => {
  const answered = [];
  for (const c of input.cases) {
    const context = await browser.newContext({ javaScriptEnabled: c.javascript !== false });
    const page = await context.newPage();
    let response = await page.goto(c.url);
    check(response.status() === 200, `${c.name}: form answered ${response.status()}`);
    await inspect(page, `${c.name}-1-form`);
    if (c.choose_language) {
      await page.locator(`nav a[hreflang="${c.choose_language}"]`).click();
      await page.waitForLoadState();
      const lang = await page.locator("html").getAttribute("lang");
      check(lang === c.choose_language, `${c.name}: page language ${lang} after choosing ${c.choose_language}`);
      await inspect(page, `${c.name}-2-language`);
    }
    const lang = await page.locator("html").getAttribute("lang");

    // Sent empty: the required questions are named at the top and next to each question.
    await submit(page);
    await page.waitForLoadState();
    const summary = page.locator(".error-summary");
    check((await summary.count()) === 1, `${c.name}: no error summary after an empty send`);
    const errors = await page.locator(".question .error").count();
    check(errors >= 1, `${c.name}: no error next to a question`);
    await inspect(page, `${c.name}-3-errors`);

    await answerForm(page, { nps: c.nps, text: c.text });
    await submit(page);
    await page.waitForURL(/\/thanks/);
    const heading = await page.locator("h1").innerText();
    check(heading.length > 0, `${c.name}: thank-you page without a heading`);
    const guidance = await page.locator(".guidance").count();
    check(guidance === (c.expect_guidance || 0), `${c.name}: ${guidance} guidance sections, expected ${c.expect_guidance || 0}`);
    await inspect(page, `${c.name}-4-thanks`);
    answered.push({ name: c.name, lang, nps: c.nps });
    await context.close();
  }

  for (const p of input.pages || []) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(p.url);
    check(response.status() === p.status, `${p.name}: status ${response.status()}, expected ${p.status}`);
    if (p.expect_text) {
      const body = await page.locator("body").innerText();
      check(body.includes(p.expect_text), `${p.name}: page does not say "${p.expect_text}"`);
    }
    await inspect(page, p.name);
    await context.close();
  }
  // Paper entry with the keyboard only: type a form per row, Tab between fields, Enter saves.
  // One row is wrong (NPS 12): it stays with its error, the other is saved.
  let paper = null;
  if (input.paper_entry) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(input.paper_entry.url);
    await page.locator('input[name="r0.nps"]').focus();
    await page.keyboard.type("12");
    for (let i = 0; i < input.paper_entry.fields_per_row; i++) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.type("9");
    await page.keyboard.press("Enter");
    await page.waitForLoadState();
    const status = await page.locator("#entry-status").innerText();
    check(status.includes(input.paper_entry.expect_status), `paper entry says "${status}"`);
    check((await page.locator("tr.rejected .error").count()) === 1, "the wrong row is not shown with its error");
    await inspect(page, "paper-entry-2-saved-and-rejected");
    paper = { status };
    await context.close();
  }
  return { answered, paper };
});
