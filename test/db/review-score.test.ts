// The desk's CLIP score on a real (tiny) CLIP model: the stored image vector against the caption text
// encoded by the model's text tower, computed on first view, stored, and equal to the cosine the
// search path would compute; images without a vector get no score.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { getEmbedding } from '../../src/main/db/repos/embeddings';
import { getModelRow } from '../../src/main/db/repos/models';
import { insertCaption, insertImage } from '../../src/main/db/repos/images';
import { getCaptionScore } from '../../src/main/db/repos/review';
import { startEmbed } from '../../src/main/jobs/embed';
import { encodeTexts } from '../../src/main/ml/encoder-pool';
import { registerModel } from '../../src/main/ml/models';
import { getItem } from '../../src/main/review/desk';
import { cosine } from '../../src/main/ml/vector-index';
import { withScore } from '../../src/main/review/score';
import { countQueue } from '../../src/main/review/queue';
import { openWorkspace } from '../../src/main/workspace';
import type { ModelId } from '#shared/ids';
import { tinyModelFolder } from '../fixtures/clip-tiny';

process.env.CTGI_ORT_PROVIDER = 'cpu';

describe('caption score', { timeout: 60_000 }, () => {
  it('is computed from the stored image vector and the text tower, stored, and filterable', async () => {
    const ws = openWorkspace(':memory:');
    const root = mkdtempSync(join(tmpdir(), 'score-ds-'));
    const ds = insertDataset(ws.db, { name: 'd', format: 'folder', root, annotationFile: null });
    const images = [];
    for (let i = 0; i < 3; i++) {
      const bytes = await sharp({
        create: {
          width: 30,
          height: 90,
          channels: 3,
          background: { r: 200 - i * 60, g: 40, b: 40 + i * 60 },
        },
      })
        .png()
        .toBuffer();
      writeFileSync(join(root, `${i}.png`), bytes);
      images.push(
        insertImage(ws.db, {
          datasetId: ds,
          relPath: `${i}.png`,
          sha256: createHash('sha256').update(bytes).digest('hex'), // checked when the encoder reads the file
          width: 30,
          height: 90,
          bytes: bytes.length,
          format: 'png',
          identityId: null,
          camera: null,
          split: null,
        }),
      );
    }
    updateDatasetStatus(ws.db, ds, 'ready');
    const captions = images.map((img, i) =>
      insertCaption(ws.db, {
        imageId: img,
        source: 'mtg',
        text: `a person in a ${['red', 'purple', 'blue'][i]} shirt`,
        status: 'pending',
      }),
    );
    const model = await registerModel(ws.db, tinyModelFolder(), 'tiny');
    // Only the first two images get vectors.
    startEmbed(ws, { modelId: model.id, datasetId: ds });
    await ws.jobs.idle();
    ws.db.prepare(`DELETE FROM embeddings WHERE image_id = ?`).run(images[2]);

    const first = await withScore(ws.db, ws.services.encoders, getItem(ws.db, captions[0]!));
    expect(first.score?.model).toBe('tiny');
    const text = await ws.services.encoders.get(getModelRow(ws.db, model.id as ModelId)!);
    const { vectors } = await encodeTexts(text, ['a person in a red shirt']);
    expect(first.score!.value).toBeCloseTo(
      cosine(getEmbedding(ws.db, model.id as ModelId, images[0]!)!, vectors[0]!),
      6,
    );
    expect(getCaptionScore(ws.db, captions[0]!, model.id as ModelId)).toBeCloseTo(first.score!.value, 6);
    // Stored: the next read needs no encoder.
    expect(getItem(ws.db, captions[0]!).score).toEqual(first.score);
    // No vector for the third image: no score, and the desk hides it.
    expect((await withScore(ws.db, ws.services.encoders, getItem(ws.db, captions[2]!))).score).toBeNull();
    const second = await withScore(ws.db, ws.services.encoders, getItem(ws.db, captions[1]!));
    const lo = Math.min(first.score!.value, second.score!.value);
    expect(countQueue(ws.db, { scoreMin: lo + 1e-9 })).toBe(1);
    expect(countQueue(ws.db, { scoreMax: 1 })).toBe(2);

    // A newer model that has embedded only the first image becomes the scoring model: the desk shows
    // its score where it has a vector and none elsewhere, exactly what the score filter counts.
    const newer = await registerModel(ws.db, tinyModelFolder(), 'tiny-2');
    startEmbed(ws, { modelId: newer.id, datasetId: ds });
    await ws.jobs.idle();
    ws.db.prepare(`DELETE FROM embeddings WHERE model_id = ? AND image_id != ?`).run(newer.id, images[0]);
    const firstNewer = await withScore(ws.db, ws.services.encoders, getItem(ws.db, captions[0]!));
    expect(firstNewer.score?.model).toBe('tiny-2');
    expect((await withScore(ws.db, ws.services.encoders, getItem(ws.db, captions[1]!))).score).toBeNull();
    expect(countQueue(ws.db, { scoreMax: 1 })).toBe(1);
    await ws.close();
  });
});
