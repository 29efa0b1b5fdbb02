import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { clipTokenizer } from '../../src/main/ml/tokenizer';
import { constants, decodeModel, encodeModel, shapeOf, tensorValues } from '../../src/main/ml/onnx';
import { pesModel, stretchPositionalTable } from '../../src/main/ml/pes';
import { buildToyTextModel } from '../fixtures/onnx/toy-text';

const ids = (rows: number[][]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);

async function run(
  bytes: Uint8Array,
  input: number[][],
): Promise<{ emb: Float32Array; hidden: Float32Array }> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input_ids: ids(input) });
  return { emb: out.text_embeds!.data as Float32Array, hidden: out.last_hidden_state!.data as Float32Array };
}

describe('stretchPositionalTable', () => {
  it('gives the ALGORITHMS.md test vector for P[i] = i²', () => {
    const P = Float32Array.from({ length: 77 }, (_, i) => i * i);
    const N = stretchPositionalTable(P, 77, 1);
    expect(N.length).toBe(248);
    expect(Array.from(N.subarray(0, 20))).toEqual(Array.from(P.subarray(0, 20)));
    expect([N[20], N[21], N[22], N[23], N[24]]).toEqual([400, 410.25, 420.5, 430.75, 441]);
    expect([N[243], N[244], N[245], N[246], N[247]]).toEqual([5738.25, 5776, 5813.75, 5851.5, 5889.25]);
  });

  it('matches the float32 reference (numpy, Long-CLIP order of operations) bit for bit, overflow included', () => {
    // Same table as the numpy script: P[i,c] = f32((31i + 17c) mod 97) / 7, with −0, a tiny and a huge value.
    const dim = 5;
    const P = new Float32Array(77 * dim);
    for (let i = 0; i < 77; i++)
      for (let c = 0; c < dim; c++) P[i * dim + c] = Math.fround(((i * 31 + c * 17) % 97) / 7);
    P[3 * dim + 1] = -0;
    P[50 * dim + 2] = Math.fround(1e-38);
    P[76 * dim + 4] = Math.fround(3.4e38);
    const N = stretchPositionalTable(P, 77, dim);
    expect(N[247 * dim + 4]).toBe(Infinity); // float32 overflow, as in PyTorch; float64 maths would not overflow
    expect(createHash('sha256').update(new Uint8Array(N.buffer)).digest('hex')).toBe(
      'fc4b20bd01951f9767547c1a0be947f535fea6358d365a54465243553d737ed0',
    );
  });

  it('rejects a table that is not rows × width', () => {
    expect(() => stretchPositionalTable(new Float32Array(100), 77)).toThrow(/77 rows/);
  });
});

describe('pesModel', () => {
  it('turns a 77-token text encoder into a 248-token one, identical on short texts', async () => {
    const original = buildToyTextModel();
    const tok = clipTokenizer();
    const short = Array.from(tok.encode('a woman in a red coat with a black backpack', { context: 77 }));
    const long = Array.from(tok.encode('a man with a hat '.repeat(30), { context: 248 }));

    await run(original, [short]); // fine at 77
    await expect(run(original, [long])).rejects.toThrow(); // 248 positions do not exist yet

    const { bytes, report } = pesModel(original);
    expect(report.table).toBe('text_model.embeddings.position_embedding.weight');
    expect(report.width).toBe(8);
    expect(report.changes.join('\n')).toMatch(/stretched from 77 to 248/);
    expect(report.changes.join('\n')).toMatch(
      /Position ids initializer "text_model.embeddings.position_ids" \[1, 77\]: 0…76 → 0…247/,
    );
    expect(report.changes.join('\n')).toMatch(
      /Causal mask initializer "causal_mask" \[77, 77\]: rebuilt as 248 × 248/,
    );
    expect(report.warnings).toEqual([]);

    const stretched = await run(bytes, [long]);
    expect(stretched.emb.length).toBe(6);
    expect(stretched.emb.every(Number.isFinite)).toBe(true);

    // Same 20-token window: positions 0–19 are copied, so every output is bit-identical.
    const first20 = short.slice(0, 20);
    const a = await run(original, [first20]);
    const b = await run(bytes, [first20]);
    expect(b.hidden).toEqual(a.hidden);
    expect(b.emb).toEqual(a.emb);
    // The same short caption padded to 77 vs 248: the causal mask keeps EOT blind to the padding.
    const padded248 = Array.from(tok.encode('a woman in a red coat with a black backpack', { context: 248 }));
    const c = await run(bytes, [padded248]);
    const d = await run(original, [short]);
    for (let k = 0; k < 6; k++) expect(c.emb[k]).toBeCloseTo(d.emb[k]!, 6);

    const m = decodeModel(bytes);
    expect(m.metadataProps).toContainEqual({ key: 'ctgi.context_length', value: '248' });
    const table = m.graph!.initializer.find(
      (t) => t.name === 'text_model.embeddings.position_embedding.weight',
    )!;
    expect(table.dims).toEqual([248, 8]);
    const pos = m.graph!.initializer.find((t) => t.name === 'text_model.embeddings.position_ids')!;
    expect(Array.from(tensorValues(pos) as BigInt64Array, Number)).toEqual(
      Array.from({ length: 248 }, (_, i) => i),
    );
  });

  it('handles Constant nodes, fixed [1, 77] inputs and Reshape shapes of older exports', async () => {
    const original = buildToyTextModel({ asConstantNodes: true, staticShapes: true });
    const tok = clipTokenizer();
    await expect(run(original, [Array.from(tok.encode('x', { context: 248 }))])).rejects.toThrow();
    const { bytes, report } = pesModel(original);
    const text = report.changes.join('\n');
    expect(text).toMatch(/Positional table Constant "text_model.embeddings.position_embedding.weight"/);
    expect(text).toMatch(
      /Shape constant initializer "x_shape" \[3\] for Reshape: \[1, 77, 8\] → \[1, 248, 8\]/,
    );
    expect(text).toMatch(/Input "input_ids" shape: 77 → 248 \(1 × 248\)/);
    expect(text).toMatch(/Output "last_hidden_state" shape/);
    const m = decodeModel(bytes);
    expect(shapeOf(m.graph!.input[0]!)).toEqual([1, 248]);
    const mask = constants(m.graph!).find((c) => c.name === 'causal_mask')!;
    expect(mask.tensor.dims).toEqual([248, 248]);
    const out = await run(bytes, [Array.from(tok.encode('a tall man in a blue shirt', { context: 248 }))]);
    expect(out.hidden.length).toBe(248 * 8);
  });

  it('refuses a model with no [77, D] table, or with two it cannot tell apart', () => {
    expect(() => pesModel(buildToyTextModel({ withoutPositions: true }))).toThrow(
      /No positional-embedding table of shape \[77, D\]/,
    );
    // Already stretched: running PES twice is refused rather than stretching 248 → 932.
    const once = pesModel(buildToyTextModel()).bytes;
    expect(() => pesModel(once)).toThrow(/stretched already/);
  });

  it('prefers the Gather-fed table named like a position embedding, and refuses true ambiguity', () => {
    const withDecoy = buildToyTextModel({ decoyTable: true });
    expect(pesModel(withDecoy).report.table).toBe('text_model.embeddings.position_embedding.weight');
    // Rename the decoy so that it, too, is a Gather-fed "position" table: nothing tells them apart.
    const m = decodeModel(withDecoy);
    m.graph!.initializer.find((t) => t.name === 'decoy_table')!.name = 'other_position_table';
    for (const n of m.graph!.node)
      n.input = n.input.map((x) => (x === 'decoy_table' ? 'other_position_table' : x));
    expect(() => pesModel(encodeModel(m))).toThrow(
      /Several \[77, D\] tables.*other_position_table.*refusing to guess/,
    );
  });
});

describe('ctgi pes', () => {
  it('writes the stretched model and reports the changes as JSON; refuses to overwrite without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-pes-'));
    const input = join(dir, 'text_model.onnx');
    const output = join(dir, 'text_model_248.onnx');
    writeFileSync(input, buildToyTextModel());
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await main(['pes', '--in', input, '--out', output, '--json'], io)).toBe(0);
    const report = JSON.parse(lines.join('\n'));
    expect(report).toMatchObject({
      contextBefore: 77,
      contextAfter: 248,
      table: 'text_model.embeddings.position_embedding.weight',
    });
    expect(
      decodeModel(readFileSync(output)).graph!.initializer.find((t) => t.name === report.table)!.dims,
    ).toEqual([248, 8]);
    lines.length = 0;
    expect(await main(['pes', '--in', input, '--out', output], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/exists already; pass --force/);
    lines.length = 0;
    expect(await main(['pes', '--in', input, '--out', output, '--force'], io)).toBe(0);
    expect(lines.join('\n')).toMatch(/changed: Causal mask/);
  });
});
