// Route explain in the console gives the answer a real causeway-proxy acts
// on: for a header match, a cookie match (given as a pasted curl command),
// the default targets and a weighted split.
import assert from 'node:assert/strict';
import { pageWithToken, clickText, axeViolations } from '../lib/browser.mjs';
import { startOrigin, startProxy, stopProcess, requestVia, waitFor } from '../lib/hub.mjs';

const HOST = 'demo.turbinelabs.io:8888';

async function explainFields(page, host, path, headers) {
  await page.click('input[name=mode]');
  await page.waitForSelector('#x-host');
  for (const [sel, v] of [['#x-host', host], ['#x-path', path], ['#x-headers', headers]]) {
    await page.$eval(sel, (e) => {
      e.value = '';
      e.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.type(sel, v);
  }
  return run(page);
}

async function run(page) {
  await page.$$eval('.explain-answer', (l) => l.forEach((e) => e.remove()));
  await clickText(page, 'Explain');
  await page.waitForSelector('.explain-answer dd[data-k=cluster]');
  return page.$eval('.explain-answer dd[data-k=cluster]', (e) => e.textContent.trim());
}

export async function explain({ hub, browser, shots, bindir, cleanup }) {
  const stable = await startOrigin('stable');
  const beta = await startOrigin('beta');
  cleanup(async () => stable.close());
  cleanup(async () => beta.close());
  const z = 'dev-local';
  await hub.api('POST', '/v1/apply', {
    items: [
      { kind: 'Zone', name: z },
      { kind: 'Cluster', zone: z, name: 'stable', instances: [{ host: '127.0.0.1', port: stable.port }] },
      { kind: 'Cluster', zone: z, name: 'beta', instances: [{ host: '127.0.0.1', port: beta.port }] },
      { kind: 'Domain', zone: z, name: HOST },
      {
        kind: 'RouteGroup', zone: z, name: 'default', default: [{ cluster: 'stable' }],
        rules: [
          { matches: [{ kind: 'header', key: 'x-version', value: '2' }], targets: [{ cluster: 'beta' }] },
          { matches: [{ kind: 'cookie', key: 'beta', value: '1' }], targets: [{ cluster: 'beta' }] },
        ],
      },
      { kind: 'RouteGroup', zone: z, name: 'split', default: [{ cluster: 'stable', weight: 70 }, { cluster: 'beta', weight: 30 }] },
      { kind: 'Route', zone: z, name: 'api', domain: HOST, path: '/api', route_group: 'default' },
      { kind: 'Route', zone: z, name: 'split', domain: HOST, path: '/split', route_group: 'split' },
      { kind: 'Proxy', zone: z, name: 'dev-proxy', domains: [HOST] },
    ],
  });
  const p = await startProxy(bindir, hub, 'dev-proxy', z);
  cleanup(() => stopProcess(p));
  await waitFor('the proxy to serve the split route', async () => {
    if (p.exitCode !== null) throw new Error(`causeway-proxy exited: ${p.logText()}`);
    return (await requestVia(8888, HOST, '/split/x')).status === 200;
  });
  const served = async (path, headers) => (await requestVia(8888, HOST, path, headers)).body.split(' ')[0];

  const page = await pageWithToken(browser, hub.adminToken);
  await page.goto(`${hub.url}/zones/${z}/explain`);
  await page.waitForFunction(() => [...document.querySelectorAll('#x-proxy option')].some((o) => o.value === 'dev-proxy'));

  assert.equal(await explainFields(page, HOST, '/api/users', 'x-version: 2'), 'beta');
  assert.equal(await served('/api/users', { 'x-version': '2' }), 'beta');
  assert.match(await page.$eval('dd[data-k=rule]', (e) => e.textContent), /route group/);
  assert.deepEqual(await axeViolations(page), []);
  await shots.take(page, 'explain');

  assert.equal(await explainFields(page, HOST, '/api/users', ''), 'stable');
  assert.equal(await served('/api/users'), 'stable');

  // The cookie rule, given as a curl command line.
  await page.click('input[name=mode]:not(:checked)');
  await page.waitForSelector('#x-curl');
  await page.type('#x-curl', `curl -b 'beta=1' http://${HOST}/api/users`);
  assert.equal(await run(page), 'beta');
  assert.equal(await served('/api/users', { Cookie: 'beta=1' }), 'beta');
  // The question is in the URL, to be shared.
  assert.match(await page.evaluate(() => location.search), /curl=/);

  // The weighted split: explain names both clusters with their weights, and
  // the proxy sends to both in about that proportion.
  await page.click('input[name=mode]:not(:checked)');
  const split = await explainFields(page, HOST, '/split/x', '');
  assert.match(split, /stable weight 70/);
  assert.match(split, /beta weight 30/);
  const counts = { stable: 0, beta: 0 };
  for (let i = 0; i < 200; i++) counts[await served('/split/x')]++;
  assert.ok(counts.stable + counts.beta === 200, JSON.stringify(counts));
  assert.ok(counts.stable > 100 && counts.stable < 180 && counts.beta > 20, JSON.stringify(counts));
}
