// The review desk on a real SQLite with the real migrations: decisions with optimistic locking, edits
// that never overwrite model output, undo read from the audit trail, bulk actions, queue order and
// filters, evidence from MTG runs, saved filters and the dashboard numbers.
import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { insertCaption, insertImage, upsertIdentity } from '../../src/main/db/repos/images';
import { insertMtgRun, savePromptSet } from '../../src/main/db/repos/mtg';
import {
  getCaptionRow,
  listSavedFilters,
  upsertSavedFilter,
  deleteSavedFilter,
  upsertCaptionScore,
} from '../../src/main/db/repos/review';
import { asWritableDb, type WritableDb } from '../../src/main/db/types';
import { AppError } from '../../src/main/errors';
import { defaultPromptSetBody } from '../../src/main/pipelines/question-pool';
import { bulkDecide, decide, edit, getHistory, getItem, getNeighbor, undo } from '../../src/main/review/desk';
import { countQueue, listQueue } from '../../src/main/review/queue';
import { getReviewStats } from '../../src/main/review/stats';
import { cleanCaption } from '../../src/main/review/text';
import type { QaRound } from '#shared/mtg/types';
import { asCaptionId, asModelId, type CaptionId, type DatasetId, type ImageId } from '#shared/ids';

let db: WritableDb;
let datasetId: DatasetId;

function image(n: number, personId: string, split: 'train' | 'test' | null = null): ImageId {
  return insertImage(db, {
    datasetId,
    relPath: `p${personId}/${n}.png`,
    sha256: `sha-${n}`,
    width: 64,
    height: 128,
    bytes: 1000 + n,
    format: 'png',
    identityId: upsertIdentity(db, datasetId, personId),
    camera: null,
    split,
  });
}

const mtgCaption = (imageId: ImageId, text: string): CaptionId =>
  insertCaption(db, { imageId, source: 'mtg', text, status: 'pending' });

function round(index: number, kept: boolean, over: Partial<QaRound> = {}): QaRound {
  return {
    index,
    questionId: `q${index}`,
    question: `Question ${index}?`,
    prompt: `Prompt ${index}`,
    answer: kept ? `answer ${index}` : 'Cannot tell from the image.',
    kept,
    dropReason: kept ? null : 'not_visible',
    dropDetail: kept ? null : 'says it cannot be seen',
    fact: kept ? `fact ${index}` : null,
    llmCallId: null,
    cached: false,
    latencyMs: 10,
    promptTokens: 5,
    completionTokens: 3,
    ...over,
  };
}

function expectConflict(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('conflict');
    expect((err as AppError).message).toMatch(
      /^This caption was changed in another window at \d\d:\d\d — reload to see it\.$/,
    );
    return err as AppError;
  }
  throw new Error('expected a conflict');
}

beforeEach(() => {
  db = openDatabase(':memory:').db;
  datasetId = insertDataset(db, { name: 'desk', format: 'folder', root: '/nowhere', annotationFile: null });
  updateDatasetStatus(db, datasetId, 'ready');
});

describe('decisions', () => {
  it('accepts with the shown version, records before/after, and refuses a stale version with the conflict message', () => {
    const c = mtgCaption(image(1, '1'), 'A man in a red shirt.');
    const item = decide(db, { captionId: c, version: 1, decision: 'accept', reviewer: 'ann' });
    expect(item.caption).toMatchObject({ status: 'accepted', version: 2 });
    expect(item.history).toHaveLength(1);
    expect(item.history[0]).toMatchObject({
      action: 'accept',
      reviewer: 'ann',
      before: { status: 'pending', version: 1 },
      after: { status: 'accepted', version: 2 },
      undone: false,
    });
    // A second window still showing version 1 tries to reject: refused, nothing written.
    expectConflict(() => decide(db, { captionId: c, version: 1, decision: 'reject', reviewer: 'bob' }));
    expect(getCaptionRow(db, c)).toMatchObject({ status: 'accepted', version: 2 });
    expect(getHistory(db, c)).toHaveLength(1);
  });

  it('an edit adds an edited row derived from the model output, which keeps its text', () => {
    const img = image(1, '1');
    const c = mtgCaption(img, 'A man in a red shirt.');
    const edited = edit(db, {
      captionId: c,
      version: 1,
      text: '  A man in a  red shirt and\tblue jeans.\u0007 ',
      status: 'accepted',
      reviewer: 'ann',
    });
    expect(edited.caption).toMatchObject({
      source: 'edited',
      text: 'A man in a red shirt and blue jeans.',
      status: 'accepted',
      version: 1,
      derivedFrom: c,
    });
    expect(edited.original).toMatchObject({ captionId: c, source: 'mtg', text: 'A man in a red shirt.' });
    const model = getCaptionRow(db, c)!;
    expect(model).toMatchObject({ text: 'A man in a red shirt.', source: 'mtg', is_current: 0, version: 2 });
    // The queue holds the edited row in place of the model's.
    expect(listQueue(db, {}, 0, 10).items.map((e) => e.captionId)).toEqual([edited.caption.id]);
    // The window that still shows the model text cannot edit it again.
    expectConflict(() =>
      edit(db, { captionId: c, version: 1, text: 'Other text.', status: 'accepted', reviewer: 'bob' }),
    );
    // Editing the edit chains from the model's row, not from the edit.
    const again = edit(db, {
      captionId: edited.caption.id,
      version: 1,
      text: 'A man in a red shirt, blue jeans.',
      status: 'flagged',
      reviewer: 'ann',
    });
    expect(again.caption.derivedFrom).toBe(c);
    expect(again.history.map((h) => h.action)).toEqual(['edit', 'edit']);
  });

  it('refuses an empty edit, and treats unchanged text as a plain decision', () => {
    const c = mtgCaption(image(1, '1'), 'A woman with a backpack.');
    expect(() =>
      edit(db, { captionId: c, version: 1, text: ' \u200b\n ', status: 'accepted', reviewer: 'ann' }),
    ).toThrow(/empty/);
    const same = edit(db, {
      captionId: c,
      version: 1,
      text: 'A woman with a backpack.',
      status: 'accepted',
      reviewer: 'ann',
    });
    expect(same.caption).toMatchObject({ id: c, source: 'mtg', status: 'accepted' });
  });
});

describe('undo', () => {
  it('walks back this reviewer’s actions newest first, leaving the other reviewer’s alone', () => {
    const a = mtgCaption(image(1, '1'), 'first');
    const b = mtgCaption(image(2, '1'), 'second');
    const c = mtgCaption(image(3, '2'), 'third');
    decide(db, { captionId: a, version: 1, decision: 'accept', reviewer: 'ann' });
    decide(db, { captionId: b, version: 1, decision: 'reject', reviewer: 'ann' });
    decide(db, { captionId: c, version: 1, decision: 'flag', reviewer: 'bob' });
    const first = undo(db, 'ann');
    expect(first.undone).toBe('Undid reject');
    expect(first.item?.caption).toMatchObject({ id: b, status: 'pending', version: 3 });
    expect(undo(db, 'ann').item?.caption).toMatchObject({ id: a, status: 'pending' });
    expect(undo(db, 'ann')).toEqual({ undone: null, item: null });
    expect(getCaptionRow(db, c)?.status).toBe('flagged');
    // The trail keeps both the decision (marked undone) and the undo.
    const h = getHistory(db, a);
    expect(h.map((e) => [e.action, e.undone])).toEqual([
      ['undo', false],
      ['accept', true],
    ]);
    expect(h[0]!.after).toMatchObject({ status: 'pending', undoes: h[1]!.id });
  });

  it('undoes a chain of own actions on one caption, newest first (accept, flag, edit, flag)', () => {
    const c = mtgCaption(image(1, '1'), 'model text');
    decide(db, { captionId: c, version: 1, decision: 'accept', reviewer: 'ann' });
    decide(db, { captionId: c, version: 2, decision: 'flag', reviewer: 'ann' });
    const e = edit(db, {
      captionId: c,
      version: 3,
      text: 'better text',
      status: 'accepted',
      reviewer: 'ann',
    });
    decide(db, { captionId: e.caption.id, version: 1, decision: 'flag', reviewer: 'ann' });
    expect(undo(db, 'ann').item?.caption).toMatchObject({ id: e.caption.id, status: 'accepted' });
    expect(undo(db, 'ann').item?.caption).toMatchObject({ id: c, status: 'flagged', text: 'model text' });
    expect(undo(db, 'ann').item?.caption).toMatchObject({ id: c, status: 'accepted' });
    expect(undo(db, 'ann').item?.caption).toMatchObject({ id: c, status: 'pending' });
    expect(undo(db, 'ann').undone).toBeNull();
  });

  it('undoes an edit: the model row is current again, the edit is kept but retracted', () => {
    const c = mtgCaption(image(1, '1'), 'model text');
    const e = edit(db, { captionId: c, version: 1, text: 'human text', status: 'accepted', reviewer: 'ann' });
    const u = undo(db, 'ann');
    expect(u.item?.caption).toMatchObject({ id: c, text: 'model text', status: 'pending' });
    expect(getCaptionRow(db, e.caption.id)).toMatchObject({ is_current: 0, text: 'human text' });
    expect(getCaptionRow(db, e.caption.id)!.retracted_at).not.toBeNull();
    expect(listQueue(db, {}, 0, 10).items.map((i) => i.captionId)).toEqual([c]);
  });

  it('refuses to undo a decision someone else changed since, with the conflict message', () => {
    const c = mtgCaption(image(1, '1'), 'text');
    decide(db, { captionId: c, version: 1, decision: 'accept', reviewer: 'ann' });
    decide(db, { captionId: c, version: 2, decision: 'reject', reviewer: 'bob' });
    expectConflict(() => undo(db, 'ann'));
    expect(getCaptionRow(db, c)?.status).toBe('rejected');
  });
});

describe('queue, filters and bulk actions', () => {
  function seed(): CaptionId[] {
    const ids: CaptionId[] = [];
    for (let n = 0; n < 6; n++) {
      const img = image(n, String(Math.floor(n / 2)), n < 4 ? 'train' : null);
      ids.push(
        mtgCaption(
          img,
          n % 2 ? `A woman in a black coat with a handbag number ${n}.` : `A man in a red shirt ${n}.`,
        ),
      );
    }
    return ids;
  }

  it('filters by status, split, identity, words, text (LIKE characters are literal) and dropped rounds', () => {
    const ids = seed();
    decide(db, { captionId: ids[0]!, version: 1, decision: 'accept', reviewer: 'ann' });
    expect(countQueue(db, { statuses: ['pending'] })).toBe(5);
    expect(countQueue(db, { split: 'none' })).toBe(2);
    expect(countQueue(db, { personId: '1' })).toBe(2);
    expect(countQueue(db, { text: 'BLACK coat' })).toBe(3);
    expect(countQueue(db, { text: '%' })).toBe(0);
    expect(countQueue(db, { minWords: 10 })).toBe(3);
    expect(countQueue(db, { maxWords: 7 })).toBe(3); // "A man in a red shirt 0."
    expect(countQueue(db, { maxWords: 6 })).toBe(0);
    expect(countQueue(db, { hasDroppedRounds: true })).toBe(0);
    const ps = savePromptSet(db, defaultPromptSetBody());
    const img = image(99, '9');
    const run = insertMtgRun(db, {
      imageId: img,
      jobId: null,
      promptSetId: ps.id,
      status: 'done',
      error: null,
      initialCaption: 'A person.',
      initialCallId: null,
      reconstruction: 'A person in a hat.',
      reconstructCallId: null,
      vqa: { endpoint: 'e', model: 'qwen2-vl' },
      reconstructor: { endpoint: 'e', model: 'gpt-4o' },
      params: {},
      skipped: [],
      calls: 3,
      cachedCalls: 0,
      promptTokens: 1,
      completionTokens: 1,
      elapsedMs: 1,
      rounds: [round(0, true), round(1, false)],
      caption: { text: 'A person in a hat.', source: 'mtg' },
    });
    expect(countQueue(db, { hasDroppedRounds: true })).toBe(1);
    const item = getItem(db, run.captionId!);
    expect(item.evidence).toMatchObject({
      initialCaption: 'A person.',
      vqaModel: 'qwen2-vl',
      reconstructorModel: 'gpt-4o',
      promptSet: { name: ps.name, version: ps.version },
    });
    expect(item.evidence!.rounds.map((r) => [r.kept, r.dropReason])).toEqual([
      [true, null],
      [false, 'not_visible'],
    ]);
    // The evidence follows the chain to its edits.
    const e = edit(db, {
      captionId: run.captionId!,
      version: 1,
      text: 'A person in a blue hat.',
      status: 'accepted',
      reviewer: 'ann',
    });
    expect(e.evidence?.runId).toBe(run.runId);
    expect(countQueue(db, { hasDroppedRounds: true })).toBe(1);
  });

  it('next/previous walk image order from any caption, and "next unreviewed" skips decided ones', () => {
    const ids = seed();
    decide(db, { captionId: ids[1]!, version: 1, decision: 'accept', reviewer: 'ann' });
    expect(getNeighbor(db, {}, undefined, 'next', false)?.caption.id).toBe(ids[0]);
    expect(getNeighbor(db, {}, ids[0], 'next', false)?.caption.id).toBe(ids[1]);
    expect(getNeighbor(db, {}, ids[0], 'next', true)?.caption.id).toBe(ids[2]);
    expect(getNeighbor(db, {}, ids[2], 'prev', false)?.caption.id).toBe(ids[1]);
    // From a caption that left the filtered queue (it was just accepted), next still continues after it.
    expect(getNeighbor(db, { statuses: ['pending'] }, ids[1], 'next', false)?.caption.id).toBe(ids[2]);
    expect(getNeighbor(db, {}, ids[5], 'next', false)).toBeNull();
  });

  it('bulk-accepts exactly the confirmed set, refuses when the count changed, and one undo reverses it all', () => {
    const ids = seed();
    const filter = { text: 'woman' };
    const n = countQueue(db, filter);
    expect(n).toBe(3);
    expect(() => bulkDecide(db, { filter, decision: 'accept', expected: 4, reviewer: 'ann' })).toThrow(
      /matches 3 captions, not the 4/,
    );
    expect(countQueue(db, { statuses: ['accepted'] })).toBe(0);
    const r = bulkDecide(db, { filter, decision: 'accept', expected: n, reviewer: 'ann' });
    expect(r.changed).toBe(3);
    expect(countQueue(db, { statuses: ['accepted'] })).toBe(3);
    expect(undo(db, 'ann').undone).toBe('Undid bulk-accept of 3 captions');
    expect(countQueue(db, { statuses: ['accepted'] })).toBe(0);
    expect(getHistory(db, ids[1]!).map((h) => h.action)).toEqual(['undo', 'bulk-accept']);
  });

  it('saves filters by name (saving again replaces) and deletes them', () => {
    upsertSavedFilter(db, 'short ones', { maxWords: 6 });
    const again = upsertSavedFilter(db, 'short ones', { maxWords: 8, statuses: ['pending'] });
    expect(listSavedFilters(db)).toEqual([again]);
    expect(again.filter).toEqual({ maxWords: 8, statuses: ['pending'] });
    expect(deleteSavedFilter(db, again.id)).toBe(true);
    expect(listSavedFilters(db)).toEqual([]);
  });
});

describe('scores and dashboard', () => {
  it('filters by stored CLIP score of the scoring model and shows it on the item', () => {
    const a = image(1, '1');
    const b = image(2, '1');
    const ca = mtgCaption(a, 'A man in a red shirt.');
    const cb = mtgCaption(b, 'A woman in a green dress.');
    db.prepare(
      `INSERT INTO models (id, name, folder, manifest, vision_sha256, text_sha256, image_height, image_width, context_length, embedding_dim, created_at)
      VALUES (7, 'toy', '/m', '{}', 'v', 't', 8, 4, 77, 4, 1)`,
    ).run();
    const vec = Buffer.from(new Float32Array([1, 0, 0, 0]).buffer);
    for (const img of [a, b])
      db.prepare(`INSERT INTO embeddings (model_id, image_id, vector, created_at) VALUES (7, ?, ?, 1)`).run(
        img,
        vec,
      );
    upsertCaptionScore(db, ca, asModelId(7), 0.31);
    upsertCaptionScore(db, cb, asModelId(7), 0.12);
    expect(listQueue(db, { scoreMax: 0.2 }, 0, 10).items.map((i) => [i.captionId, i.score])).toEqual([
      [cb, 0.12],
    ]);
    expect(getItem(db, ca).score).toEqual({ model: 'toy', value: 0.31 });
    const stats = getReviewStats(db);
    expect(stats.score?.scored).toBe(2);
    expect(stats.score?.histogram.reduce((s, b) => s + b.count, 0)).toBe(2);
  });

  it('counts current captions by status, decisions per hour (undone ones out) and attribute coverage', () => {
    const ids = [1, 2, 3].map((n) =>
      mtgCaption(
        image(n, String(n)),
        n === 3 ? 'Something vague.' : `A man with short black hair in a red shirt, ${n}.`,
      ),
    );
    insertCaption(db, {
      imageId: image(4, '4'),
      source: 'human',
      text: 'A woman carrying a backpack.',
      status: 'accepted',
    });
    decide(db, { captionId: ids[0]!, version: 1, decision: 'accept', reviewer: 'ann' });
    edit(db, {
      captionId: ids[1]!,
      version: 1,
      text: 'A man with black hair in a red shirt and jeans.',
      status: 'accepted',
      reviewer: 'ann',
    });
    decide(db, { captionId: ids[2]!, version: 1, decision: 'reject', reviewer: 'ann' });
    undo(db, 'ann');
    const s = getReviewStats(db);
    expect(s.total).toBe(4);
    expect(s.byStatus).toEqual({ pending: 1, accepted: 3, rejected: 0, flagged: 0 });
    expect(s.bySource).toEqual({ human: 1, mtg: 2, edited: 1 });
    expect(s.perHour.reduce((n, h) => n + h.count, 0)).toBe(2);
    expect(s.perHour).toHaveLength(24);
    const cov = Object.fromEntries(s.attributeCoverage.map((c) => [c.attribute, c.count]));
    expect(cov).toMatchObject({ hair: 2, upper: 2, lower: 1, bag: 1, gender: 3 });
    expect(s.lengthHistogram.reduce((n, b) => n + b.count, 0)).toBe(4);
  });
});

describe('caption text cleaning', () => {
  it('keeps accents, CJK and emoji, drops controls and invisible characters, mends lone surrogates', () => {
    expect(cleanCaption('Cafe\u0301 ok')).toBe('Café ok');
    expect(cleanCaption('穿红色衬衫的男人 👕')).toBe('穿红色衬衫的男人 👕');
    expect(cleanCaption('a\u0000b\u001bc\u200bd\u202ee\r\nf')).toBe('abcde f');
    expect(cleanCaption('bad \ud800 half')).toBe('bad \ufffd half');
    expect(asCaptionId(1)).toBe(1);
  });
});

describe('migration 5 on a workspace with captions', () => {
  it('makes every existing caption the current row of its chain, so the queue shows them all', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { migrate } = await import('../../src/main/db/migrate');
    const { migrations } = await import('../../src/main/db/migrations');
    const old = asWritableDb(new Database(':memory:'));
    migrate(old, migrations.slice(0, 4), null);
    old.exec(`INSERT INTO datasets (id, name, format, root, status, created_at) VALUES (1, 'd', 'folder', '/', 'ready', 1);
      INSERT INTO images (id, dataset_id, rel_path, sha256, width, height, bytes, format, created_at) VALUES (1, 1, 'a.png', 's', 1, 1, 1, 'png', 1);
      INSERT INTO captions (image_id, source, text, status, created_at, updated_at) VALUES (1, 'human', 'old caption', 'accepted', 1, 1), (1, 'mtg', 'generated', 'pending', 1, 1);`);
    migrate(old, migrations, null);
    expect(old.prepare(`SELECT is_current, retracted_at FROM captions ORDER BY id`).all()).toEqual([
      { is_current: 1, retracted_at: null },
      { is_current: 1, retracted_at: null },
    ]);
    expect(listQueue(old, {}, 0, 10).items.map((i) => i.text)).toEqual(['old caption', 'generated']);
    old.close();
  });
});
