// The renderer's server state rules as plain functions: which answers each server event makes stale
// (what replaced the views' hand-written reloads), how a job from an event or an answer enters the job
// list, and what the footage filter keeps of MTI's saved rows and their track groups.
import { describe, expect, it } from 'vitest';
import type { Job, JobKind, JobStatus } from '#shared/jobs/types';
import type { TrackHitGroup } from '#shared/search/types';
import type { CropOrigin } from '#shared/footage/types';
import type { ImageId, JobId } from '#shared/ids';
import { passesFootageFilter, tracksOfRows } from '../../src/renderer/src/lib/footage/filter';
import { isActive, mergeJob } from '../../src/renderer/src/lib/jobList';
import { staleAfter } from '../../src/renderer/src/lib/staleRules';

const job = (id: number, kind: JobKind, status: JobStatus, done = 0, attempts = 1): Job => ({
  id: id as JobId,
  kind,
  title: `${kind} #${id}`,
  status,
  done,
  total: 100,
  message: null,
  error: null,
  issueCount: 0,
  attempts,
  createdAt: 0,
  startedAt: 0,
  finishedAt: null,
  rate: null,
});

describe('what a server event makes stale', () => {
  it('a library change: every view of the library, the models, the search results and the review figures', () => {
    expect([...staleAfter('library:changed', { datasetId: null })].sort()).toEqual(
      [
        'datasets:list',
        'images:list',
        'library:stats',
        'models:list',
        'review:scoreCoverage',
        'review:stats',
        'search:text',
      ].sort(),
    );
  });

  it('an embed job: what can be scored while it runs, the models and search results once it has finished', () => {
    const running = staleAfter('jobs:progress', job(1, 'embed', 'running', 10));
    expect(running).toEqual(expect.arrayContaining(['datasets:list', 'review:scoreCoverage']));
    // The Search page's embed prompt follows the job to its end (e2e search): no model list mid-job.
    expect(running).not.toContain('models:list');
    expect(running).not.toContain('search:text');
    for (const status of ['done', 'done-with-failures'] as const)
      expect(staleAfter('jobs:progress', job(1, 'embed', status, 100))).toEqual(
        expect.arrayContaining(['models:list', 'search:text']),
      );
    // A failed or cancelled job ends with library:changed, which covers both.
    expect(staleAfter('jobs:progress', job(1, 'embed', 'failed', 40))).not.toContain('search:text');
  });

  it('each other kind: its own views, and any job its issues', () => {
    expect(staleAfter('jobs:progress', job(2, 'import', 'running'))).toEqual(
      expect.arrayContaining(['images:list', 'library:stats', 'datasets:list']),
    );
    expect(staleAfter('jobs:progress', job(3, 'footage', 'running'))).toEqual(
      expect.arrayContaining(['footage:list', 'footage:tracks']),
    );
    expect(staleAfter('jobs:progress', job(4, 'score', 'running'))).toContain('review:scoreCoverage');
    expect(staleAfter('jobs:progress', job(5, 'mtg', 'running'))).toEqual(
      expect.arrayContaining(['mtg:runs', 'usage:summary', 'mtg:batches']),
    );
    expect(staleAfter('jobs:progress', job(6, 'export', 'running'))).toEqual(['jobs:issues']);
    // An MTI evaluation's report is stored with it once it is done.
    expect(staleAfter('jobs:progress', job(8, 'eval-mti', 'running'))).toEqual(['jobs:issues']);
    expect(staleAfter('jobs:progress', job(8, 'eval-mti', 'done'))).toContain('eval:mti-report');
    expect(staleAfter('jobs:progress', job(7, 'footage', 'running'))).not.toContain('images:list');
  });
});

describe('the job list', () => {
  it('puts a new job in by id, newest first', () => {
    const list = mergeJob([job(3, 'embed', 'running'), job(1, 'import', 'done')], job(2, 'mtg', 'queued'));
    expect(list.map((j) => j.id)).toEqual([3, 2, 1]);
  });

  it('never steps a job back: a late answer with less done, or running again after it ended', () => {
    const ahead = [job(5, 'embed', 'running', 60)];
    expect(mergeJob(ahead, job(5, 'embed', 'running', 40))[0]!.done).toBe(60);
    expect(mergeJob(ahead, job(5, 'embed', 'running', 80))[0]!.done).toBe(80);
    const cancelled = [job(5, 'embed', 'cancelled', 60)];
    expect(mergeJob(cancelled, job(5, 'embed', 'running', 60))[0]!.status).toBe('cancelled');
    // A resume is a new attempt: that one runs again.
    expect(mergeJob(cancelled, job(5, 'embed', 'running', 60, 2))[0]!.status).toBe('running');
  });

  it('calls queued and running jobs active', () => {
    expect(isActive(job(1, 'embed', 'queued'))).toBe(true);
    expect(isActive(job(1, 'embed', 'running'))).toBe(true);
    expect(isActive(job(1, 'embed', 'done'))).toBe(false);
  });
});

describe('the footage filter over MTI rows', () => {
  const origin = (camera: string, timeMs: number | null): CropOrigin => ({
    imageId: 1 as ImageId,
    trackId: 1,
    videoId: 1,
    cameraId: 1,
    camera,
    folderId: 1,
    frameTime: 0,
    framePts: 0,
    timeMs,
    box: [0, 0, 1, 1],
    score: 1,
    videoPath: '/v.mp4',
    frameWidth: 10,
    frameHeight: 10,
  });
  const none = { cameras: [], fromMs: undefined, toMs: undefined, filtered: false };

  it('keeps everything when nothing is chosen, and only matching footage crops when something is', () => {
    expect(passesFootageFilter(undefined, none)).toBe(true);
    const cam2 = { ...none, cameras: ['cam02'], filtered: true };
    expect(passesFootageFilter(undefined, cam2)).toBe(false);
    expect(passesFootageFilter(origin('cam02', 5), cam2)).toBe(true);
    expect(passesFootageFilter(origin('cam01', 5), cam2)).toBe(false);
    const window = { ...none, fromMs: 1000, toMs: 2000, filtered: true };
    expect(passesFootageFilter(origin('cam01', 1000), window)).toBe(true);
    expect(passesFootageFilter(origin('cam01', 2000), window)).toBe(true);
    expect(passesFootageFilter(origin('cam01', 999), window)).toBe(false);
    expect(passesFootageFilter(origin('cam01', 2001), window)).toBe(false);
    // Without a clock time a crop cannot be placed in a time window.
    expect(passesFootageFilter(origin('cam01', null), window)).toBe(false);
  });

  it('narrows the track groups to the kept rows, each led by its best kept row, dropping empty ones', () => {
    const group = (trackId: number, ranks: number[]): TrackHitGroup => ({
      trackId,
      camera: 'cam01',
      cameraId: 1,
      videoId: 1,
      firstTime: 0,
      lastTime: 1,
      firstMs: null,
      lastMs: null,
      rank: ranks[0]!,
      score: 0.9,
      ranks,
    });
    const kept = tracksOfRows(
      [group(7, [1, 3]), group(8, [2]), group(9, [4, 5])],
      [
        { rank: 3, fused: 0.5 },
        { rank: 4, fused: 0.4 },
        { rank: 5, fused: 0.3 },
      ],
    );
    expect(kept.map((t) => [t.trackId, t.rank, t.score, t.ranks])).toEqual([
      [7, 3, 0.5, [3]],
      [9, 4, 0.4, [4, 5]],
    ]);
  });
});
