// The rules that used to sit inline in the service façade, now in their features' modules (issue 14.4):
// the busy-dataset check (datasets/handlers.ts), the Batch API rounds as the API shows them
// (jobs/mtg-handlers.ts), and resetting the app keychain (settings/handlers.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { asDatasetId } from '#shared/ids';
import { assertDatasetIdle } from '../../src/main/datasets/handlers';
import { listBatchRounds } from '../../src/main/jobs/mtg-handlers';
import { resetKeyStore } from '../../src/main/settings/handlers';
import { insertBatch, updateBatch } from '../../src/main/db/repos/batches';
import { insertDataset } from '../../src/main/db/repos/datasets';
import { insertJob, markJobFinished } from '../../src/main/db/repos/jobs';
import { openDatabase } from '../../src/main/db/open';
import type { WritableDb } from '../../src/main/db/types';
import { unavailableKeyStore, type KeyStore } from '../../src/main/llm/keys';
import { AppError } from '../../src/main/errors';

let db: WritableDb | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

const open = (): WritableDb => (db = openDatabase(':memory:').db);

describe('a dataset under import', () => {
  it('cannot be deleted while its import job is queued, and can once the job is over', () => {
    const db = open();
    const id = insertDataset(db, { name: 'a', format: 'folder', root: '/tmp/a', annotationFile: null });
    const other = insertDataset(db, { name: 'b', format: 'folder', root: '/tmp/b', annotationFile: null });
    const job = insertJob(db, { kind: 'import', title: 'import a', params: { datasetId: id } });
    expect(() => assertDatasetIdle(db, id)).toThrow(
      new AppError('conflict', `Dataset ${id} is being imported; cancel its job first.`),
    );
    expect(() => assertDatasetIdle(db, other)).not.toThrow();
    markJobFinished(db, job, 'cancelled', null);
    expect(() => assertDatasetIdle(db, id)).not.toThrow();
    expect(() => assertDatasetIdle(db, asDatasetId(99))).not.toThrow();
  });
});

describe("an MTG job's Batch API rounds", () => {
  it('are listed round by round with their counts and provider id', () => {
    const db = open();
    const job = insertJob(db, { kind: 'mtg', title: 'mtg', params: {} });
    const first = insertBatch(db, { jobId: job, endpointId: null, round: 1, try: 1, requestCount: 10 });
    updateBatch(db, first.id, {
      status: 'collected',
      provider_batch_id: 'batch_1',
      completed_count: 9,
      failed_count: 1,
    });
    insertBatch(db, { jobId: job, endpointId: null, round: 1, try: 2, requestCount: 1 });
    expect(listBatchRounds(db, job)).toEqual([
      {
        round: 1,
        try: 1,
        status: 'collected',
        requests: 10,
        completed: 9,
        failed: 1,
        providerBatchId: 'batch_1',
      },
      { round: 1, try: 2, status: 'preparing', requests: 1, completed: 0, failed: 0, providerBatchId: null },
    ]);
  });
});

describe('resetting the app keychain', () => {
  it('says there is none outside the desktop app, and reports where a damaged one was kept', async () => {
    await expect(resetKeyStore(unavailableKeyStore)).rejects.toThrow(/only in the desktop app/);
    const store: KeyStore = { ...unavailableKeyStore, reset: async () => '/keys.json.damaged' };
    expect(await resetKeyStore(store)).toEqual({ keptAs: '/keys.json.damaged' });
  });
});
