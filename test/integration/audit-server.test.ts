// `npm run audit:server` as part of the suite: the same audit against a real `ctgi serve`, so a route
// added without a guard, or a guard that loosens, fails CI. And the audit itself must be able to fail:
// behind a proxy that lets everyone in (it adds the token and drops Origin headers), it reports holes.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { CHANNELS } from '#shared/channels';
import { HTTP_ROUTES } from '../../src/main/api/http';
import { auditServer, disposeAuditWorld, prepareAuditWorld, runAudit } from '../../scripts/audit-server';
import { startServe } from '../e2e/helpers/serve';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('npm run audit:server', () => {
  it('refuses every hostile request on every route of the server, and passes every control', async () => {
    const lines: string[] = [];
    const report = await auditServer((l) => lines.push(l));
    expect(report.routes.map((r) => r.path)).toEqual(HTTP_ROUTES.map((r) => r.path));
    const byName = Object.fromEntries(report.categories.map((c) => [c.name, c]));
    expect(Object.keys(byName)).toEqual([
      'credentials',
      'roles',
      'foreign origins',
      'traversal',
      'symbolic links',
      'bodies and methods',
      'secrets',
      'event streams',
    ]);
    // Every channel of the contract, with a dozen and more ways of presenting a credential.
    expect(byName.credentials!.tried).toBeGreaterThanOrEqual(CHANNELS.length * 16);
    for (const c of report.categories) expect(c.failures, c.name).toEqual([]);
    expect(report.controls.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(lines.at(-1)).toMatch(/^All \d+ hostile requests were refused; all \d+ controls passed\.$/);
  });

  it('reports the holes of a server that lets everyone in', async () => {
    const world = await prepareAuditWorld();
    cleanups.push(() => disposeAuditWorld(world));
    const served = await startServe(world.workspace, world.dir, world.env);
    cleanups.push(() => served.stop());
    const leaky: Server = createServer((req, res) => {
      const headers = { ...req.headers, 'x-ctgi-token': served.token };
      delete headers.origin;
      delete headers['sec-fetch-site'];
      const up = request(
        { host: '127.0.0.1', port: served.port, method: req.method, path: req.url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => leaky.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => leaky.close(r)));

    const report = await runAudit((leaky.address() as AddressInfo).port, served.token, world);
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.categories.map((c) => [c.name, c]));
    expect(byName.credentials!.failures.length).toBeGreaterThan(CHANNELS.length * 10);
    expect(byName['foreign origins']!.refused).toBe(0);
    // What the server itself guards still holds behind the proxy.
    expect(byName['symbolic links']!.failures).toEqual([]);
    expect(byName.secrets!.failures).toEqual([]);
  });
});
