// Real processes for the browser tests: a `causeway serve` on ports chosen
// at run time with a fresh data directory, the CLI against it, a
// causeway-proxy and a small HTTP origin.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Polls `check` (async, truthy when done) until it holds or `ms` pass.
export async function waitFor(what, check, ms = 10000, every = 25) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

function startProcess(name, bin, args, env = {}) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d) => {
    log += d;
    if (log.length > 200000) log = log.slice(-100000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((r) => child.once('exit', (code, sig) => r({ code, sig })));
  child.logText = () => log;
  child.label = name;
  return child;
}

export async function stopProcess(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(t);
}

export class Hub {
  constructor(bindir, extraArgs = []) {
    this.bindir = bindir;
    this.extraArgs = extraArgs;
    this.dir = mkdtempSync(join(tmpdir(), 'causeway-browser-'));
  }
  async start() {
    this.apiPort = await freePort();
    this.xdsPort = await freePort();
    this.url = `http://127.0.0.1:${this.apiPort}`;
    this.proc = startProcess('causeway serve', join(this.bindir, 'causeway'), [
      'serve', '--api', `127.0.0.1:${this.apiPort}`, '--xds', `127.0.0.1:${this.xdsPort}`,
      '--data-dir', this.dir, '--log-level', process.env.CAUSEWAY_BROWSER_VERBOSE ? 'info' : 'warn',
      ...this.extraArgs,
    ]);
    await waitFor('the hub to answer /readyz', async () => {
      if (this.proc.exitCode !== null) throw new Error(`hub exited: ${this.proc.logText()}`);
      const r = await fetch(`${this.url}/readyz`);
      return r.ok;
    });
    this.adminToken = readFileSync(join(this.dir, 'admin.token'), 'utf8').trim();
    return this;
  }
  async api(method, path, body, token = this.adminToken) {
    const r = await fetch(this.url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) {
      const e = new Error(`${method} ${path}: ${r.status} ${text}`);
      e.status = r.status;
      e.body = data;
      throw e;
    }
    return data;
  }
  async token(name, role, zone) {
    const t = await this.api('POST', '/v1/tokens', { name, role, ...(zone ? { zone } : {}) });
    return t.secret;
  }
  // `causeway apply -f` of `yaml`, as a user at a terminal would.
  cli(args, stdin) {
    return new Promise((resolve, reject) => {
      const child = execFile(join(this.bindir, 'causeway'), [...args, '--hub', this.url, '--token', this.adminToken],
        (err, stdout, stderr) => (err ? reject(new Error(`causeway ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
      if (stdin !== undefined) child.stdin.end(stdin);
    });
  }
  async stop() {
    await stopProcess(this.proc);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startProxy(bindir, hub, proxy, zone) {
  const admin = await freePort();
  const p = startProcess('causeway-proxy', join(bindir, 'causeway-proxy'), [
    '--xds', `127.0.0.1:${hub.xdsPort}`, '--proxy', proxy, '--zone', zone,
    '--admin', `127.0.0.1:${admin}`, '--listen-address', '127.0.0.1', '--workers', '1',
    '--access-log', 'off', '--log-level', 'warn',
  ]);
  p.adminPort = admin;
  return p;
}

// An origin that answers every request with its name and the path it got.
export async function startOrigin(name) {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`${name} ${req.method} ${req.url}`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.port = server.address().port;
  return server;
}

// A request through the proxy at 127.0.0.1:port with the given Host.
export function requestVia(port, host, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { Host: host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export function writeTemp(hub, name, text) {
  const p = join(hub.dir, name);
  writeFileSync(p, text);
  return p;
}
