// The seed's Houston steps, by clicking only: zone dev-local, domain
// demo.turbinelabs.io:8888, proxy dev-proxy serving it, cluster
// envoy-simple (an origin this test runs), route group default and route
// /api; then a real causeway-proxy connected to the hub serves /api from the
// origin, and the zone page shows it connected and in sync. Each page is
// checked with axe-core and photographed.
import assert from 'node:assert/strict';
import { pageWithToken, waitText, clickText, axeViolations } from '../lib/browser.mjs';
import { startOrigin, startProxy, stopProcess, requestVia, waitFor } from '../lib/hub.mjs';

async function check(page, shots, name) {
  const v = await axeViolations(page);
  assert.deepEqual(v, [], `axe on ${name}`);
  await shots.take(page, name);
}

async function typeInto(page, selector, text) {
  await page.waitForSelector(selector);
  await page.click(selector, { count: 3 });
  await page.type(selector, String(text));
}

async function create(page, what, url) {
  await clickText(page, `Create ${what}`);
  await page.waitForFunction((u) => location.pathname === u, { polling: 100 }, url);
}

export async function houston({ hub, browser, shots, bindir, cleanup }) {
  const origin = await startOrigin('envoy-simple');
  cleanup(async () => origin.close());
  const page = await pageWithToken(browser, hub.adminToken);
  await page.goto(`${hub.url}/zones`);

  await clickText(page, 'New zone');
  await typeInto(page, '#name', 'dev-local');
  await typeInto(page, '#description', 'a laptop reaching staging');
  await check(page, shots, 'zone-new');
  await clickText(page, 'Create zone');
  await page.waitForFunction(() => location.pathname === '/zones/dev-local', { polling: 100 });

  await clickText(page, 'New domain');
  await typeInto(page, '#f-host', 'demo.turbinelabs.io');
  await typeInto(page, '#f-port', '8888');
  await create(page, 'domain', '/zones/dev-local/domains/demo.turbinelabs.io%3A8888');

  await page.goto(`${hub.url}/zones/dev-local`);
  await clickText(page, 'New proxy');
  await typeInto(page, '#f-name', 'dev-proxy');
  await page.waitForSelector('#f-domains input[type=checkbox]');
  await page.click('#f-domains input[type=checkbox]');
  await create(page, 'proxy', '/zones/dev-local/proxies/dev-proxy');

  await page.goto(`${hub.url}/zones/dev-local`);
  await clickText(page, 'New cluster');
  await typeInto(page, '#f-name', 'envoy-simple');
  await clickText(page, 'Add instance');
  await typeInto(page, '#f-inst-0-host', '127.0.0.1');
  await typeInto(page, '#f-inst-0-port', origin.port);
  await check(page, shots, 'cluster-new');
  await create(page, 'cluster', '/zones/dev-local/clusters/envoy-simple');

  await page.goto(`${hub.url}/zones/dev-local`);
  await clickText(page, 'New route group');
  await typeInto(page, '#f-name', 'default');
  await clickText(page, 'Add target');
  await page.waitForSelector('#f-default-0-cluster');
  assert.equal(await page.$eval('#f-default-0-cluster', (e) => e.value), 'envoy-simple');
  await create(page, 'route group', '/zones/dev-local/route-groups/default');

  await page.goto(`${hub.url}/zones/dev-local`);
  await clickText(page, 'New route');
  await typeInto(page, '#f-name', 'api');
  await page.select('#f-domain', 'demo.turbinelabs.io:8888');
  await typeInto(page, '#f-path', '/api');
  await page.select('#f-route_group', 'default');
  await check(page, shots, 'route-new');
  await create(page, 'route', '/zones/dev-local/routes/api');
  await check(page, shots, 'route');

  // What the clicks wrote is what the seed describes.
  const route = await hub.api('GET', '/v1/zones/dev-local/routes/api');
  assert.equal(route.domain, 'demo.turbinelabs.io:8888');
  assert.equal(route.path, '/api');
  assert.equal(route.route_group, 'default');
  const proxy = await hub.api('GET', '/v1/zones/dev-local/proxies/dev-proxy');
  assert.deepEqual(proxy.domains, ['demo.turbinelabs.io:8888']);

  // A real proxy connected to the hub now serves the route from the origin.
  const p = await startProxy(bindir, hub, 'dev-proxy', 'dev-local');
  cleanup(() => stopProcess(p));
  const res = await waitFor('causeway-proxy to serve /api on port 8888', async () => {
    if (p.exitCode !== null) throw new Error(`causeway-proxy exited: ${p.logText()}`);
    const r = await requestVia(8888, 'demo.turbinelabs.io:8888', '/api/hello');
    return r.status === 200 && r;
  });
  assert.equal(res.body, 'envoy-simple GET /api/hello');

  // The zone page shows the proxy connected and in sync, without a reload.
  await page.goto(`${hub.url}/zones/dev-local`);
  await waitText(page, 'section[data-kind=Proxy] tr[data-name=dev-proxy]', 'in sync');
  await waitText(page, 'section[data-kind=Cluster] tr[data-name=envoy-simple]', `127.0.0.1:${origin.port}`);
  await check(page, shots, 'zone');
  await page.goto(`${hub.url}/zones/dev-local/proxies/dev-proxy`);
  await page.waitForSelector('[data-sync=in-sync]');
  await waitText(page, 'details summary', 'listeners (1)');
  await waitText(page, '.ack-history', 'Listeners version');
  await check(page, shots, 'proxy');
  await page.goto(`${hub.url}/zones/dev-local/route-groups/default`);
  await page.waitForSelector('#f-default-0-weight');
  await check(page, shots, 'route-group');
  await page.goto(`${hub.url}/zones/dev-local/routes/api?view=yaml`);
  await page.waitForSelector('#yaml');
  await check(page, shots, 'route-yaml');
  await page.goto(`${hub.url}/history?zone=dev-local`);
  await waitText(page, 'table', 'create Route dev-local/api');
  await clickText(page, 'Show');
  await page.waitForSelector('pre.diff');
  await check(page, shots, 'history');
  // The history follows the log: a change made elsewhere appears without a reload.
  await hub.api('POST', '/v1/zones/dev-local/clusters', { name: 'late', instances: [] });
  await waitText(page, 'table', 'create Cluster dev-local/late');
  await page.goto(`${hub.url}/tokens`);
  await page.waitForSelector('#t-name');
  await check(page, shots, 'tokens');
  // Dark by the system setting, with the same contrast checks.
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await page.goto(`${hub.url}/zones/dev-local`);
  await waitText(page, 'section[data-kind=Proxy]', 'in sync');
  await check(page, shots, 'zone-dark');
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
  // The narrow window keeps everything reachable.
  await page.setViewport({ width: 390, height: 800 });
  await page.goto(`${hub.url}/zones/dev-local`);
  await waitText(page, 'section[data-kind=Proxy]', 'in sync');
  await shots.take(page, 'zone-narrow');
  assert.deepEqual(page.consoleErrors, []);
}
