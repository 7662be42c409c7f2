#!/usr/bin/env node
// Browser tests of the web console: Debian's chromium (headless) against a
// real `causeway serve` from the build folder, a real causeway-proxy and the
// CLI. Prints the measurements and writes a screenshot of each page to
// BUILD/browser-screenshots/. Exit status 1 when a scenario fails.
//
//   node test/browser/run.mjs [BUILD_DIR]     (default build/release)
//   CAUSEWAY_BROWSER_ONLY=name,...            run only these scenarios
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hub } from './lib/hub.mjs';
import { launch, Shots, CHROMIUM, apiCalls } from './lib/browser.mjs';
import { undescribedCalls } from './lib/openapi.mjs';
import { scenarios } from './scenarios.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const build = resolve(process.argv[2] || process.env.CAUSEWAY_BUILD_DIR || join(root, 'build/release'));
const bindir = join(build, 'src/exe');
for (const f of [join(bindir, 'causeway'), join(bindir, 'causeway-proxy'), CHROMIUM]) {
  if (!existsSync(f)) {
    console.error(`browser tests: ${f} is missing (build the release binaries; chromium comes from scripts/bootstrap)`);
    process.exit(1);
  }
}

const only = (process.env.CAUSEWAY_BROWSER_ONLY || '').split(',').filter(Boolean);
const shots = new Shots(join(build, 'browser-screenshots'));
const browser = await launch();
const measurements = [];
let failed = 0;
const started = Date.now();
for (const s of scenarios) {
  if (only.length && !only.includes(s.name)) continue;
  const hub = await new Hub(bindir, s.hubArgs).start();
  const t0 = Date.now();
  const cleanups = [];
  try {
    await s.run({ hub, browser, shots, bindir, measure: (m) => measurements.push(m), cleanup: (f) => cleanups.push(f) });
    console.log(`ok    ${((Date.now() - t0) / 1000).toFixed(1)}s  ${s.name}`);
  } catch (e) {
    failed = 1;
    console.log(`FAIL  ${((Date.now() - t0) / 1000).toFixed(1)}s  ${s.name}\n${e.stack || e}`);
    if (process.env.CAUSEWAY_BROWSER_VERBOSE) {
      console.log(hub.proc.logText());
      const t = Date.now();
      const r = await fetch(`${hub.url}/v1/zones`, { headers: { Authorization: `Bearer ${hub.adminToken}` }, signal: AbortSignal.timeout(3000) })
        .then((r) => r.status, (e) => e.message);
      console.log(`hub answers GET /v1/zones: ${r} after ${Date.now() - t} ms`);
      const m = await fetch(`${hub.url}/metrics`, { signal: AbortSignal.timeout(3000) }).then((r) => r.text(), (e) => e.message);
      console.log(m.split('\n').filter((l) => /watch_streams|http_connections/.test(l)).join('\n'));
    }
    // What the browser showed when it failed.
    let n = 0;
    for (const page of await browser.pages()) {
      const file = await shots.take(page, `FAILED-${s.name}-${n++}`).catch(() => '');
      if (file) console.log(`  ${page.url()}: ${file}`);
    }
  } finally {
    for (const f of cleanups.reverse()) await f().catch(() => {});
    // The scenario's pages go before its hub, so no stream is left open.
    for (const ctx of browser.browserContexts()) if (ctx !== browser.defaultBrowserContext()) await ctx.close();
    const t = Date.now();
    await hub.stop();
    if (Date.now() - t > 2000) console.log(`  (the hub took ${Date.now() - t} ms to stop)`);
  }
}
await browser.cleanup();
// Every call the console made is one the API description documents.
const openapi = join(root, 'docs/api/openapi.json');
if (!only.length && existsSync(openapi)) {
  const bad = undescribedCalls(openapi, apiCalls);
  if (bad.length) {
    failed = 1;
    console.log(`FAIL  the console called what docs/api/openapi.json does not describe:\n  ${bad.join('\n  ')}`);
  } else {
    console.log(`ok    ${apiCalls.size} distinct API calls of the console are described in docs/api/openapi.json`);
  }
}
if (measurements.length) {
  console.log('\nmeasured:');
  for (const m of measurements) console.log(`  ${m}`);
}
console.log(`\nscreenshots in ${shots.dir}; ${((Date.now() - started) / 1000).toFixed(1)}s in all`);
process.exit(failed);
