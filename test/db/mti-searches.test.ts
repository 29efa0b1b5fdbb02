import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/main/db/migrate';
import { migrations } from '../../src/main/db/migrations';
import { openDatabase } from '../../src/main/db/open';
import {
  deleteSearch,
  getSearchRow,
  insertSearch,
  listSearches,
  markInterruptedSearches,
  toSearch,
  updateSearch,
} from '../../src/main/db/repos/searches';
import { asWritableDb, type WritableDb } from '../../src/main/db/types';
import { asImageId, asModelId, type ModelId } from '#shared/ids';
import { MTI_DEFAULTS, type MtiTranscript } from '#shared/mti/types';

function addModel(db: WritableDb, name = 'toy'): ModelId {
  const r = db
    .prepare(
      `INSERT INTO models (name, folder, manifest, vision_sha256, text_sha256, image_height, image_width,
         context_length, embedding_dim, created_at) VALUES (?, '/m', '{}', 'v', 't', 224, 224, 77, 8, 0)`,
    )
    .run(name);
  return asModelId(Number(r.lastInsertRowid));
}

const transcript = (query: string): MtiTranscript => ({
  query,
  params: MTI_DEFAULTS,
  rounds: [],
  log: [],
  fallback: null,
  history: [],
});

describe('searches (migration 6)', () => {
  it('adds the searches table to a version-5 workspace without touching its data', () => {
    const db = asWritableDb(new Database(':memory:'));
    db.pragma('foreign_keys = ON');
    migrate(db, migrations.slice(0, 5), null);
    const modelId = addModel(db);
    migrate(db, migrations, null);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect((db.prepare(`SELECT name FROM models WHERE id = ?`).get(modelId) as { name: string }).name).toBe(
      'toy',
    );
    const id = insertSearch(db, {
      modelId,
      datasetId: null,
      query: 'a man in red',
      vqaEndpoint: 'oracle',
      aggregatorEndpoint: 'oracle',
      params: MTI_DEFAULTS,
      transcript: transcript('a man in red'),
    });
    expect(getSearchRow(db, id)?.status).toBe('running');
  });

  it('stores the transcript and results and reopens them as they were', () => {
    const { db } = openDatabase(':memory:');
    const modelId = addModel(db);
    const t = transcript('a woman with a backpack');
    const id = insertSearch(
      db,
      {
        modelId,
        datasetId: null,
        query: t.query,
        vqaEndpoint: 'v',
        aggregatorEndpoint: 'a',
        params: { ...MTI_DEFAULTS, k: 10 },
        transcript: t,
      },
      1000,
    );
    t.rounds.push({
      index: 1,
      query: t.query,
      checks: [
        { imageId: asImageId(7), rank: 1, score: 0.31, answer: 'No.', verdict: 'no', by: 'mllm', ms: 12 },
      ],
      anchor: { imageId: asImageId(9), rank: 2, by: 'analyst' },
      earlyStop: false,
      questions: [
        {
          id: 'hair-colour',
          attribute: 'hair.colour',
          text: 'What colour is the hair?',
          answer: 'black',
          by: 'analyst',
          kept: true,
          dropReason: null,
        },
      ],
      skipped: [],
      refined: 'a woman with black hair and a backpack',
      refinedBy: 'mllm',
      calls: 3,
      ms: 40,
      note: null,
    });
    updateSearch(
      db,
      id,
      { transcript: t, refined: 'a woman with black hair and a backpack', results: [], status: 'done' },
      2000,
    );
    const s = toSearch(db, getSearchRow(db, id)!);
    expect(s).toMatchObject({
      query: 'a woman with a backpack',
      modelName: 'toy',
      status: 'done',
      refined: 'a woman with black hair and a backpack',
      updatedAt: 2000,
    });
    expect(s.transcript.rounds[0]!.questions[0]!.by).toBe('analyst');
    expect(listSearches(db)).toEqual([
      {
        id,
        query: t.query,
        refined: s.refined,
        modelName: 'toy',
        rounds: 1,
        status: 'done',
        updatedAt: 2000,
      },
    ]);
  });

  it('lists newest first, marks searches a dead process left running, and goes with its model', () => {
    const { db } = openDatabase(':memory:');
    const modelId = addModel(db);
    const a = insertSearch(
      db,
      {
        modelId,
        datasetId: null,
        query: 'a',
        vqaEndpoint: null,
        aggregatorEndpoint: null,
        params: MTI_DEFAULTS,
        transcript: transcript('a'),
      },
      1,
    );
    const b = insertSearch(
      db,
      {
        modelId,
        datasetId: null,
        query: 'b',
        vqaEndpoint: null,
        aggregatorEndpoint: null,
        params: MTI_DEFAULTS,
        transcript: transcript('b'),
      },
      2,
    );
    expect(listSearches(db).map((s) => s.id)).toEqual([b, a]);
    expect(markInterruptedSearches(db)).toBe(2);
    expect(getSearchRow(db, a)?.status).toBe('cancelled');
    expect(() => db.prepare(`UPDATE searches SET transcript = 'not json' WHERE id = ?`).run(a)).toThrow(
      /CHECK/,
    );
    expect(deleteSearch(db, a)).toBe(true);
    db.prepare(`DELETE FROM models WHERE id = ?`).run(modelId);
    expect(listSearches(db)).toEqual([]);
  });
});
