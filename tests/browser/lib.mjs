// Shared by the browser scenarios: Debian's Chromium through playwright-core, axe-core on every
// page, and screenshots kept as test artifacts. A scenario reads its input from the
// KAIKU_SCENARIO environment variable (JSON) and prints one line "RESULT <json>" at the end;
// any failed check throws, and the process exits non-zero with the reason.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = require("axe-core").source;

export const input = JSON.parse(process.env.KAIKU_SCENARIO || "{}");
const artifacts = process.env.KAIKU_ARTIFACT_DIR || "artifacts";
mkdirSync(artifacts, { recursive: true });

export function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    // As root in a sandboxed machine with a closed network: no sandbox, no GPU, and none of
    // Chromium's own background connections (they would fail, many at a time).
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return browser;
}

// Runs axe-core on the page and fails on any violation, naming each rule and element.
export async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document);
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
    }));
  });
  check(result.length === 0, `axe: ${name} has ${result.length} violation(s): ${JSON.stringify(result, null, 1)}`);
}

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

// Both checks every page gets.
export async function inspect(page, name) {
  await axe(page, name);
  await shot(page, name);
}

// Answers every question of the form on the page as a respondent would, by clicking labels:
// NPS with `nps`, other scales with their fourth option (or the last, if fewer), the first
// option of a multiple choice, and `text` in open questions.
export async function answerForm(page, { nps, text }) {
  const groups = page.locator("form fieldset[data-question]");
  const count = await groups.count();
  for (let i = 0; i < count; i++) {
    const group = groups.nth(i);
    const inputs = group.locator("input");
    const n = await inputs.count();
    let target;
    if ((await group.locator(".scale.nps").count()) > 0) {
      target = group.locator(`input[value="${nps}"]`);
    } else if ((await inputs.first().getAttribute("type")) === "checkbox") {
      target = inputs.first();
    } else {
      target = inputs.nth(Math.min(3, n - 1));
    }
    const id = await target.getAttribute("id");
    await page.locator(`label[for="${id}"]`).click();
  }
  const areas = page.locator("form textarea");
  for (let i = 0; i < (await areas.count()); i++) {
    await areas.nth(i).fill(text);
  }
}

export async function submit(page) {
  await page.locator('form button[type="submit"]').click();
}

export function done(result) {
  console.log(`RESULT ${JSON.stringify(result)}`);
}

export async function run(scenario) {
  const browser = await launch();
  try {
    const result = await scenario(browser);
    done(result);
  } finally {
    await browser.close();
  }
}
