// Size and speed: the console's first load (gzip transfer), and rendering
// a zone of 500 clusters of 20 instances each.
import assert from 'node:assert/strict';
import { pageWithToken } from '../lib/browser.mjs';

export async function scale({ hub, browser, measure }) {
  const items = [{ kind: 'Zone', name: 'big' }];
  for (let c = 0; c < 500; c++) {
    const instances = [];
    for (let i = 0; i < 20; i++) instances.push({ host: `10.${c >> 8}.${c & 255}.${i + 1}`, port: 8080 });
    items.push({ kind: 'Cluster', zone: 'big', name: `svc-${String(c).padStart(3, '0')}`, instances });
  }
  await hub.api('POST', '/v1/apply', { items });

  // First load of the sign-in page with an empty cache: every byte the
  // console needs before an API call (HTML, script, style, icon).
  const first = await pageWithToken(browser, null);
  await first.goto(`${hub.url}/signin`, { waitUntil: 'networkidle0' });
  const bytes = await first.evaluate(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .filter((e) => !new URL(e.name).pathname.startsWith('/v1/'))
      .reduce((sum, e) => sum + e.transferSize, 0),
  );
  measure(`first load transfer (gzip, headers included): ${(bytes / 1024).toFixed(1)} KB`);
  assert.ok(bytes < 150 * 1024, `first load is ${bytes} bytes`);

  const page = await pageWithToken(browser, hub.adminToken);
  await page.goto(`${hub.url}/zones`);
  await page.waitForSelector('table.list');
  const runs = [];
  for (let r = 0; r < 3; r++) {
    // Navigation inside the console (a click on the zone), lists fetched and
    // rendered: until the last cluster's last instance is on screen.
    await page.goto(`${hub.url}/zones`);
    await page.waitForSelector('a[href="/zones/big"]');
    const t0 = performance.now();
    await page.click('a[href="/zones/big"]');
    await page.waitForFunction(
      () => document.querySelectorAll('section[data-kind=Cluster] tbody tr').length === 500 &&
        document.querySelector('tr[data-name="svc-499"]')?.textContent.includes('10.1.243.20:8080'),
      { polling: 'mutation', timeout: 20000 },
    );
    runs.push(performance.now() - t0);
  }
  const best = Math.min(...runs);
  measure(`render a zone of 500 clusters × 20 instances: ${runs.map((t) => t.toFixed(0)).join(', ')} ms (3 runs)`);
  assert.ok(best < 1000, `rendering the zone took ${best} ms (goal: 1 s)`);
}
