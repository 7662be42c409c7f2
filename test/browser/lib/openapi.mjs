// Holds the console's API calls to the hub's OpenAPI description
// (docs/api/openapi.json): each must be a described path and method.
import { readFileSync } from 'node:fs';

export function undescribedCalls(openapiFile, calls) {
  const doc = JSON.parse(readFileSync(openapiFile, 'utf8'));
  const routes = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .map(([path, item]) => ({
      re: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      literals: path.split('/').filter((s) => s && !s.startsWith('{')).length,
      methods: new Set(Object.keys(item).map((m) => m.toUpperCase())),
    }));
  const bad = [];
  for (const call of calls) {
    const [method, path] = call.split(' ');
    // The most literal matching path is the one the hub routes to.
    const match = routes.filter((r) => r.re.test(path)).sort((a, b) => b.literals - a.literals)[0];
    if (!match || !match.methods.has(method)) bad.push(call);
  }
  return bad;
}
