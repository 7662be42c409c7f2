// The console's watch from a revision the hub no longer keeps (the hub runs
// with --history-retention 2): the zone page lets go of its stream while
// hidden, five writes happen and are compacted away, and when the page is
// shown again its watch is answered 410 and the page lists the zone again,
// showing every write without a reload.
import assert from 'node:assert/strict';
import { pageWithToken } from '../lib/browser.mjs';
import { waitFor } from '../lib/hub.mjs';

export async function historyGone({ hub, browser }) {
  await hub.api('POST', '/v1/zones', { name: 'dev-local' });
  const page = await pageWithToken(browser, hub.adminToken);
  await page.goto(`${hub.url}/zones/dev-local`);
  await page.waitForFunction(() => document.querySelector('h1 .live')?.textContent.includes('live'), { polling: 50 });
  const navigations = await page.evaluate(() => performance.getEntriesByType('navigation').length);
  const before = (await hub.api('GET', '/v1/zones')).revision;
  // As the browser does when the page is put away: the stream is closed.
  await page.evaluate(() => window.dispatchEvent(new Event('pagehide')));
  for (let i = 0; i < 5; i++) {
    await hub.api('POST', '/v1/zones/dev-local/clusters', { name: `gone-${i}` });
  }
  await waitFor('the change log to be compacted past the page', async () => {
    const r = await fetch(`${hub.url}/v1/changelog?since=${before}`, {
      headers: { Authorization: `Bearer ${hub.adminToken}` },
    });
    return r.status === 410;
  });
  await page.evaluate(() => window.dispatchEvent(new Event('pageshow')));
  for (let i = 0; i < 5; i++) {
    await page.waitForSelector(`section[data-kind=Cluster] tr[data-name="gone-${i}"]`, { polling: 'mutation', timeout: 10000 });
  }
  await page.waitForFunction(() => document.querySelector('h1 .live')?.textContent.includes('live'), { polling: 50 });
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), navigations);
}
