// Writes from the console that the hub refuses or that race another writer.
import assert from 'node:assert/strict';
import { pageWithToken, waitText, clickText, axeViolations } from '../lib/browser.mjs';

async function seed(hub) {
  await hub.api('POST', '/v1/apply', {
    items: [
      { kind: 'Zone', name: 'dev-local' },
      { kind: 'Cluster', zone: 'dev-local', name: 'web', instances: [{ host: '10.0.0.1', port: 80 }] },
      { kind: 'Domain', zone: 'dev-local', name: 'demo.turbinelabs.io:8888' },
      { kind: 'RouteGroup', zone: 'dev-local', name: 'default', default: [{ cluster: 'web' }] },
    ],
  });
}

// A cluster instance on port 99999: the error appears at that instance's
// port field and nothing is written; fixing the field creates the cluster.
export async function validationError({ hub, browser, shots }) {
  await seed(hub);
  const before = (await hub.api('GET', '/readyz')).revision;
  const page = await pageWithToken(browser, hub.adminToken);
  await page.goto(`${hub.url}/zones/dev-local/clusters/new`);
  await page.waitForSelector('#f-name');
  await page.type('#f-name', 'envoy-simple');
  await clickText(page, 'Add instance');
  await page.waitForSelector('#f-inst-0-host');
  await page.type('#f-inst-0-host', '127.0.0.1');
  await page.type('#f-inst-0-port', '99999');
  await clickText(page, 'Create cluster');
  await page.waitForSelector('[data-field=f-inst-0-port] .field-error');
  const message = await page.$eval('[data-field=f-inst-0-port] .field-error', (e) => e.textContent);
  assert.match(message, /65535|port/i);
  // Only that field is marked; the page did not move on.
  assert.equal(await page.$$eval('.field-error', (l) => l.length), 1);
  assert.equal(await page.evaluate(() => location.pathname), '/zones/dev-local/clusters/new');
  assert.deepEqual(await axeViolations(page), []);
  await shots.take(page, 'validation-error');
  assert.equal((await hub.api('GET', '/readyz')).revision, before);
  assert.deepEqual((await hub.api('GET', '/v1/zones/dev-local/clusters')).items.map((c) => c.name), ['web']);
  await page.click('#f-inst-0-port', { count: 3 });
  await page.type('#f-inst-0-port', '8080');
  await clickText(page, 'Create cluster');
  await page.waitForFunction(() => location.pathname === '/zones/dev-local/clusters/envoy-simple', { polling: 100 });
  assert.equal((await hub.api('GET', '/v1/zones/dev-local/clusters/envoy-simple')).instances[0].port, 8080);

  // The YAML view edits the same object: a YAML error stays in the page,
  // a good edit is saved.
  await page.goto(`${hub.url}/zones/dev-local/clusters/envoy-simple?view=yaml`);
  await page.waitForSelector('#yaml');
  const yaml = await page.$eval('#yaml', (e) => e.value);
  assert.match(yaml, /kind: Cluster/);
  const setYaml = (text) =>
    page.$eval('#yaml', (e, t) => {
      e.value = t;
      e.dispatchEvent(new Event('input', { bubbles: true }));
    }, text);
  await setYaml(`${yaml}\ninstances: [unclosed`);
  await clickText(page, 'Save YAML');
  await waitText(page, '.field-error', 'YAML');
  await setYaml(yaml.replace('port: 8080', 'port: 8081'));
  await clickText(page, 'Save YAML');
  await waitText(page, '[role=status]', 'Saved');
  assert.equal((await hub.api('GET', '/v1/zones/dev-local/clusters/envoy-simple')).instances[0].port, 8081);
}

// Someone else changes the cluster while it is being edited: saving shows
// the conflict with the current object; re-applying writes the edit on top.
export async function conflict({ hub, browser, shots }) {
  await seed(hub);
  const page = await pageWithToken(browser, hub.adminToken);
  await page.goto(`${hub.url}/zones/dev-local/clusters/web`);
  await page.waitForSelector('#f-inst-0-port');
  await page.click('#f-inst-0-port', { count: 3 });
  await page.type('#f-inst-0-port', '8080');
  // The other writer: a second instance, through the API.
  const current = await hub.api('GET', '/v1/zones/dev-local/clusters/web');
  const theirs = await hub.api('PUT', '/v1/zones/dev-local/clusters/web', {
    version: current.version,
    instances: [...current.instances, { host: '10.0.0.2', port: 80 }],
  });
  await waitText(page, '[role=status]', 'changed elsewhere');
  await clickText(page, 'Save');
  await page.waitForSelector('.conflict');
  assert.match(await page.$eval('.conflict .current-object', (e) => e.textContent), /10\.0\.0\.2/);
  assert.deepEqual(await axeViolations(page), []);
  await shots.take(page, 'conflict');
  // Nothing of the edit was written.
  assert.equal((await hub.api('GET', '/v1/zones/dev-local/clusters/web')).instances[0].port, 80);
  await clickText(page, `Re-apply my edit on version ${theirs.version}`);
  await waitText(page, '[role=status]', 'Saved');
  const after = await hub.api('GET', '/v1/zones/dev-local/clusters/web');
  assert.equal(after.instances[0].port, 8080);
  // Re-applying the edit replaces the spec with the edit, as the form showed it.
  assert.equal(after.instances.length, 1);
}
