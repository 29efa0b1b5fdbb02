// `ctgi users`: a person's secret link printed once, the list, revocation; the link then works (and
// stops working) against `ctgi serve` on the same workspace.
import { mkdtempSync, rmSync } from 'node:fs';
import { runCli } from '../fixtures/cli';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TeamUser } from '#shared/team/types';
import { startHttpServer } from '../../src/main/api/http';
import { openWorkspace } from '../../src/main/workspace';

const dir = mkdtempSync(join(tmpdir(), 'ctgi-users-'));
const wsFile = join(dir, 'ws.sqlite');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ctgi = runCli;

describe('ctgi users', () => {
  it('adds a person with a link of their own, lists and revokes them', async () => {
    const added = await ctgi(
      'users',
      '-w',
      wsFile,
      '--add',
      'Alice',
      '--role',
      'reviewer',
      '--url',
      'http://box:8400/',
    );
    expect(added.code).toBe(0);
    const link = /http:\/\/box:8400\/#token=(\S+)/.exec(added.out);
    expect(link).not.toBeNull();
    const token = decodeURIComponent(link![1]!);

    const noRole = await ctgi('users', '-w', wsFile, '--add', 'Bob');
    expect(noRole.code).not.toBe(0);
    expect(noRole.err).toMatch(/--role/);

    const list = JSON.parse((await ctgi('users', '-w', wsFile, '--list', '--json')).out) as TeamUser[];
    expect(list).toEqual([expect.objectContaining({ name: 'Alice', role: 'reviewer', revokedAt: null })]);
    expect(JSON.stringify(list)).not.toContain(token);

    // The link works against the server on this workspace, until it is revoked.
    const ws = openWorkspace(wsFile, { resumeJobs: false });
    const server = await startHttpServer(ws, { staticDir: null });
    const whoami = (): Promise<Response> =>
      fetch(`http://127.0.0.1:${server.port}/api/session:whoami`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ctgi-token': token },
        body: '{}',
      });
    try {
      expect((await whoami()).status).toBe(200);
      const revoked = await ctgi('users', '-w', wsFile, '--revoke', 'Alice');
      expect(revoked.out).toMatch(/Revoked Alice/);
      expect((await whoami()).status).toBe(401);
    } finally {
      await server.close();
      await ws.close();
    }
    const table = await ctgi('users', '-w', wsFile);
    expect(table.out).toMatch(/Alice\s+reviewer/);
  });
});
