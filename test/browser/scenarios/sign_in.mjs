// Sign-in by typing the admin token; a wrong token is refused; the zones
// list shows what the API has; a bookmarked page URL opens after sign-in.
import assert from 'node:assert/strict';
import { pageWithToken, waitText, axeViolations } from '../lib/browser.mjs';

export async function signInAndZones({ hub, browser, shots }) {
  await hub.api('POST', '/v1/zones', { name: 'staging', description: 'the shared one' });
  const page = await pageWithToken(browser, null);
  // A bookmarked URL first goes to sign-in, then back to where it pointed.
  await page.goto(`${hub.url}/zones/staging`);
  await page.waitForSelector('#token');
  assert.match(await page.$eval('.help', (e) => e.textContent), /~\/\.local\/share\/causeway\/admin\.token/);
  assert.deepEqual(await axeViolations(page), []);
  await shots.take(page, 'sign-in');
  await page.type('#token', 'not-a-token');
  await page.click('button[type=submit]');
  await waitText(page, '[role=alert]', 'does not know this token');
  await page.$eval('#token', (e) => (e.value = ''));
  await page.type('#token', hub.adminToken);
  await page.click('button[type=submit]');
  await page.waitForFunction(() => location.pathname === '/zones/staging');
  await page.goto(`${hub.url}/zones`);
  await waitText(page, 'table', 'the shared one');
  assert.deepEqual(await axeViolations(page), []);
  await shots.take(page, 'zones');
  // The token is in session storage only, never a cookie.
  assert.equal(await page.evaluate(() => document.cookie), '');
  assert.deepEqual(page.consoleErrors, []);
}
