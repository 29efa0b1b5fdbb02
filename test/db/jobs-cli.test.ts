// `ctgi jobs` says what a job is: a paused job is "paused" (it used to be listed as "cancelled", the
// status a pause was stored as), can be paused and cancelled from the command line, and a job whose
// items failed says so.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { insertJob, markJobFinished } from '../../src/main/db/repos/jobs';
import { openWorkspace } from '../../src/main/workspace';

async function ctgi(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n') + err.join('\n') };
}

describe('ctgi jobs', () => {
  it('pauses a queued job, lists it as paused, cancels it, and lists a job with failed items as such', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jobs-cli-')), 'ws.sqlite');
    const ws = openWorkspace(file, { resumeJobs: false });
    // Queued by another process (the server, say): this one only changes its status.
    const paused = insertJob(ws.db, {
      kind: 'mtg',
      title: 'MTG captions for dataset 1, 6 rounds',
      params: {},
    });
    const partly = insertJob(ws.db, { kind: 'embed', title: 'Embed dataset 1 with model 1', params: {} });
    markJobFinished(ws.db, partly, 'done-with-failures', '2 of 9 images could not be read');
    await ws.close();

    const p = await ctgi('jobs', '-w', file, '--pause', String(paused));
    expect(p.code, p.out).toBe(0);
    expect(p.out).toMatch(new RegExp(`^#${paused} mtg +paused +0 +MTG captions`));

    const list = await ctgi('jobs', '-w', file);
    expect(list.out).toMatch(new RegExp(`^#${paused} mtg +paused `, 'm'));
    expect(list.out).toMatch(
      new RegExp(`^#${partly} embed +done-with-failures .* — 2 of 9 images could not be read$`, 'm'),
    );
    expect(list.out).not.toMatch(/cancelled/);

    const c = await ctgi('jobs', '-w', file, '--cancel', String(paused));
    expect(c.code, c.out).toBe(0);
    expect(c.out).toMatch(new RegExp(`^#${paused} mtg +cancelled `));
  });
});
