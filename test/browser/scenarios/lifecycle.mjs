// A zone's life in the console: created with the seed's example objects,
// a route group's weights moved with the keyboard (the sliders stay at
// 100%) and a rule added, the zone exported as YAML, a token created with
// an expiry and revoked, and the zone deleted with the list of what goes.
import assert from 'node:assert/strict';
import { pageWithToken, waitText, clickText, axeViolations } from '../lib/browser.mjs';

const weights = (page) =>
  page.$$eval('#f-default .target label[for$=-weight]', (l) => l.map((e) => e.textContent));

export async function lifecycle({ hub, browser, shots }) {
  const page = await pageWithToken(browser, hub.adminToken);
  await page.goto(`${hub.url}/zones/new`);
  await page.waitForSelector('#name');
  await page.type('#name', 'shop');
  await page.click('input[type=checkbox]');
  await page.waitForSelector('#ex-domain');
  assert.equal(await page.$eval('#ex-domain', (e) => e.value), 'demo.turbinelabs.io:8888');
  await clickText(page, 'Create zone');
  await page.waitForFunction(() => location.pathname === '/zones/shop', { polling: 100 });
  for (const [kind, name] of [['Proxy', 'dev-proxy'], ['Domain', 'demo.turbinelabs.io:8888'], ['Route', 'demo.turbinelabs.io-8888-api'], ['RouteGroup', 'default'], ['Cluster', 'envoy-simple']]) {
    await waitText(page, `section[data-kind=${kind}]`, name);
  }
  await hub.api('POST', '/v1/zones/shop/clusters', { name: 'envoy-beta', instances: [{ host: '127.0.0.1', port: 9 }] });

  // Weights: a second target splits 50/50; the keyboard moves the first to
  // 70% and the second follows to 30%.
  await page.goto(`${hub.url}/zones/shop/route-groups/default`);
  await page.waitForSelector('#f-default-0-weight');
  await clickText(page, 'Add target');
  await page.waitForSelector('#f-default-1-cluster');
  await page.select('#f-default-1-cluster', 'envoy-beta');
  assert.deepEqual(await weights(page), ['Weight 50%', 'Weight 50%']);
  await page.focus('#f-default-0-weight');
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
  assert.deepEqual(await weights(page), ['Weight 70%', 'Weight 30%']);
  // A rule: header x-version: 2 goes to envoy-beta.
  await clickText(page, 'Add rule');
  await page.waitForSelector('#f-rule0-m0-key');
  await page.type('#f-rule0-m0-key', 'x-version');
  await page.type('#f-rule0-m0-value', '2');
  await clickText(page, 'Add target', '#f-rule0-targets');
  await page.waitForSelector('#f-rule0-targets-0-cluster');
  await page.select('#f-rule0-targets-0-cluster', 'envoy-beta');
  assert.deepEqual(await axeViolations(page), []);
  await shots.take(page, 'route-group-edit');
  await clickText(page, 'Save');
  await waitText(page, '[role=status]', 'Saved');
  const group = await hub.api('GET', '/v1/zones/shop/route-groups/default');
  assert.deepEqual(group.default.map((t) => [t.cluster, t.weight]), [['envoy-simple', 70], ['envoy-beta', 30]]);
  assert.deepEqual(group.rules[0].matches.map((m) => [m.kind, m.key, m.value]), [['header', 'x-version', '2']]);
  assert.deepEqual(group.rules[0].targets.map((t) => t.cluster), ['envoy-beta']);

  // A cluster still in use cannot go: the hub's referrers are listed.
  await page.goto(`${hub.url}/zones/shop/clusters/envoy-beta`);
  await clickText(page, 'Delete');
  await clickText(page, 'Delete cluster envoy-beta');
  await waitText(page, '.banner', 'RouteGroup default uses it');
  assert.equal((await hub.api('GET', '/v1/zones/shop/clusters/envoy-beta')).name, 'envoy-beta');

  // Export: every object of the zone as YAML documents.
  await page.goto(`${hub.url}/zones/shop`);
  await clickText(page, 'Export YAML');
  await page.waitForSelector('#export-yaml');
  const yaml = await page.$eval('#export-yaml', (e) => e.value);
  for (const k of ['Zone', 'Cluster', 'Domain', 'RouteGroup', 'Route', 'Proxy']) assert.match(yaml, new RegExp(`kind: ${k}\\n`));
  assert.match(yaml, /weight: 70/);

  // Tokens: created with an expiry, the secret shown once, then revoked.
  await page.goto(`${hub.url}/tokens`);
  await page.waitForSelector('#t-name');
  await page.type('#t-name', 'ci-reader');
  await page.waitForFunction(() => [...document.querySelectorAll('#t-zone option')].some((o) => o.value === 'shop'));
  await page.select('#t-zone', 'shop');
  await page.type('#t-ttl', '1h');
  await clickText(page, 'Create token');
  await page.waitForSelector('#t-secret');
  const secret = await page.$eval('#t-secret', (e) => e.value);
  assert.ok(secret.length > 20);
  await waitText(page, 'tr[data-name=ci-reader]', 'shop');
  assert.doesNotMatch(await page.$eval('tr[data-name=ci-reader]', (e) => e.textContent), /never/);
  assert.equal((await hub.api('GET', '/v1/zones', undefined, secret)).items.length, 1);
  await shots.take(page, 'tokens-created');
  await clickText(page, 'Revoke…', 'tr[data-name=ci-reader]');
  await clickText(page, 'Revoke ci-reader');
  await page.waitForFunction(() => !document.querySelector('tr[data-name=ci-reader]'), { polling: 'mutation' });
  await assert.rejects(hub.api('GET', '/v1/zones', undefined, secret), /401/);

  // Delete: the page lists every object that goes, then deletes them all.
  await page.goto(`${hub.url}/zones/shop`);
  await clickText(page, 'Delete zone');
  await page.waitForSelector('.delete-list');
  const listed = await page.$$eval('.delete-list li', (l) => l.map((e) => e.textContent));
  assert.equal(listed.length, 7);
  assert.ok(listed.includes('Cluster envoy-beta') && listed.includes('Zone shop'), listed.join());
  assert.deepEqual(await axeViolations(page), []);
  await shots.take(page, 'zone-delete');
  await clickText(page, 'Delete zone and 6 objects');
  await page.waitForFunction(() => location.pathname === '/zones', { polling: 100 });
  await assert.rejects(hub.api('GET', '/v1/zones/shop'), /404/);
}
