// Debian's chromium, headless, driven by puppeteer-core; axe-core injected
// into pages for the accessibility check.
import puppeteer from 'puppeteer-core';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Every API call ("METHOD /v1/path") the console made, for the check
// against the OpenAPI description.
export const apiCalls = new Set();

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'causeway-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
  browser.cleanup = async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return browser;
}

// A page (its own context, so its session storage is its own) signed in
// with `token` before any script of the console runs.
export async function pageWithToken(browser, token, viewport = { width: 1280, height: 900 }) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport(viewport);
  page.setDefaultTimeout(10000);
  if (token) {
    await page.evaluateOnNewDocument((t) => sessionStorage.setItem('causeway.token', t), token);
  }
  page.consoleErrors = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/v1/')) apiCalls.add(`${r.method()} ${u.pathname}`);
  });
  page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
  if (process.env.CAUSEWAY_BROWSER_VERBOSE) {
    page.on('console', (m) => console.log(`[page] ${m.text()}`));
    page.on('request', (r) => console.log(`[page] ${r.method()} ${r.url()}`));
    page.on('requestfinished', (r) => console.log(`[page] done ${r.url()}`));
  }
  return page;
}

export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

export class Shots {
  constructor(dir) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    // Only this run's pictures (a failure's from an earlier run would mislead).
    for (const f of readdirSync(dir)) if (f.endsWith('.png')) rmSync(join(dir, f));
  }
  async take(page, name) {
    const path = join(this.dir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }
}

// Text of the element matching `selector`, once it contains `text`.
export async function waitText(page, selector, text, timeout = 10000) {
  await page.waitForFunction(
    (s, t) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(t)),
    { timeout, polling: 'mutation' },
    selector,
    text,
  );
}

// Clicks the button or link whose text is `text` (inside `scope`).
export async function clickText(page, text, scope = 'body') {
  const handle = await page.waitForFunction(
    (sc, t) =>
      [...document.querySelectorAll(`${sc} button, ${sc} a, ${sc} [role=tab], ${sc} summary`)].find(
        (e) => e.textContent.trim() === t && !e.disabled,
      ),
    { polling: 'mutation' },
    scope,
    text,
  );
  await handle.asElement().click();
}
