import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { AppError } from '../../src/main/errors';
import {
  ClipTokenizer,
  EOT_TOKEN,
  SOT_TOKEN,
  bytesToUnicode,
  clipTokenizer,
  htmlUnescape,
} from '../../src/main/ml/tokenizer';

// Expected ids come from OpenAI's simple_tokenizer.py run in Python (regex 2026.9, ftfy 6.3.1, the same
// bpe_simple_vocab_16e6.txt.gz), not from this code. Rows with a third entry are where ftfy changes the text:
// [text, ids with our ftfy subset (the default), ids of the reference without ftfy (fixText: false)].
const REFERENCE: [string, number[], number[]?][] = [
  ['a photo of a cat', [49406, 320, 1125, 539, 320, 2368, 49407]],
  ['A Photo Of A CAT!', [49406, 320, 1125, 539, 320, 2368, 256, 49407]],
  [
    "The woman's bag isn't red; she'll carry it.",
    [49406, 518, 2308, 568, 3365, 2923, 713, 736, 282, 1043, 1342, 6998, 585, 269, 49407],
  ],
  [
    "He'd've gone, I'm sure you're right",
    [49406, 797, 1896, 1200, 3601, 267, 328, 880, 1650, 592, 982, 1155, 49407],
  ],
  [
    'rock &amp; roll &amp;amp; jazz &lt;3 &#39;quoted&#39; &ampx &notit',
    [49406, 2172, 261, 3341, 261, 4528, 283, 274, 262, 27706, 262, 261, 343, 126, 361, 585, 49407],
  ],
  ['a   man \t wearing\n\n a   hat  ', [49406, 320, 786, 3309, 320, 3801, 49407]],
  [
    'size 42 shoes, born 1999, 3.5kg',
    [49406, 3235, 275, 273, 4079, 267, 2683, 272, 280, 280, 280, 267, 274, 269, 276, 7817, 49407],
  ],
  [
    'caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00dcber stra\u00dfe',
    [49406, 15304, 1097, 35689, 563, 29106, 7054, 4166, 6522, 1516, 1894, 127, 253, 324, 49407],
  ],
  [
    '\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \u4e2d\u6587',
    [49406, 39121, 44353, 34002, 252, 21575, 2429, 228, 47121, 32421, 486, 19759, 255, 29032, 485, 49407],
  ],
  [
    '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440',
    [49406, 26302, 16370, 29503, 110, 22176, 141, 480, 267, 38018, 16701, 141, 478, 49407],
  ],
  ['emoji \ud83d\ude00\ud83d\udc4d\ud83c\udffd test', [49406, 16327, 12832, 43722, 1628, 49407]],
  ['hello...world!!! ???', [49406, 3306, 678, 1002, 995, 3824, 49407]],
  [
    'state-of-the-art e-mail x/y #tag @user $100 50%',
    [
      49406, 1295, 268, 539, 268, 518, 268, 794, 324, 268, 2614, 343, 270, 344, 258, 3640, 287, 7031, 259,
      272, 271, 271, 276, 271, 260, 49407,
    ],
  ],
  ['<|startoftext|>hi<|endoftext|>', [49406, 49406, 1883, 49407, 49407]],
  [
    'she\u2019s wearing \u201cnew\u201d \ufb01ne \uff2c\uff2f\uff35\uff24 shoes',
    [49406, 1043, 568, 3309, 257, 686, 257, 3797, 7464, 4079, 49407],
    [
      49406, 1043, 728, 503, 338, 3309, 728, 506, 686, 728, 507, 171, 105, 223, 1422, 171, 121, 234, 171, 121,
      237, 171, 121, 243, 171, 121, 482, 4079, 49407,
    ],
  ],
  ['antidisestablishmentarianism', [49406, 3120, 4262, 7726, 12658, 1585, 44351, 49407]],
  ['', [49406, 49407]],
  ['   ', [49406, 49407]],
];

// 95 tokens with start and end; reference ids as above.
const LONG_CAPTION =
  'a young woman with long black hair, wearing a white t-shirt with a red logo, blue jeans and black sneakers, carrying a red backpack over her left shoulder and holding a phone in her right hand. She is walking past a man in a grey coat who is riding a bicycle; behind them there is a parked white car and a shop window with posters. Her hair is tied in a ponytail and she wears small silver earrings and a watch on her wrist.';
const LONG_IDS = [
  49406, 320, 1888, 2308, 593, 1538, 1449, 2225, 267, 3309, 320, 1579, 339, 268, 2523, 593, 320, 736, 5750,
  267, 1746, 10157, 537, 1449, 17397, 267, 9920, 320, 736, 14894, 962, 899, 1823, 8476, 537, 5050, 320, 1951,
  530, 899, 1155, 2463, 269, 1043, 533, 3941, 2729, 320, 786, 530, 320, 5046, 7356, 822, 533, 6765, 320,
  11652, 282, 2403, 1180, 997, 533, 320, 16487, 1579, 1615, 537, 320, 1557, 4879, 593, 9673, 269, 899, 2225,
  533, 9889, 530, 320, 43265, 537, 1043, 11869, 2442, 3467, 9136, 537, 320, 1239, 525, 899, 16139, 269, 49407,
];

const VOCAB = resolve(__dirname, '../../../shared/data/clip/bpe_simple_vocab_16e6.txt.gz');

describe('CLIP BPE tokenizer', () => {
  const tok = clipTokenizer();

  it('encodes the anchor sentence as in ALGORITHMS.md', () => {
    expect(Array.from(tok.encode('a photo of a cat')).slice(0, 7)).toEqual([
      49406, 320, 1125, 539, 320, 2368, 49407,
    ]);
  });

  it.each(REFERENCE)('matches the Python reference for %j', (text, ids, withoutFtfy) => {
    expect([SOT_TOKEN, ...tok.encodeText(text), EOT_TOKEN]).toEqual(ids);
    const plain = ClipTokenizer.fromBpeFile(VOCAB, { fixText: false });
    expect([SOT_TOKEN, ...plain.encodeText(text), EOT_TOKEN]).toEqual(withoutFtfy ?? ids);
  });

  it('pads with 0 to the context and reports the untruncated count', () => {
    const ids = tok.encode('a photo of a cat', { context: 77 });
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe(77);
    expect(Array.from(ids.slice(7))).toEqual(new Array(70).fill(0));
    expect(tok.tokenCount('a photo of a cat')).toBe(7);
    expect(tok.tokenCount(LONG_CAPTION)).toBe(95);
  });

  it('truncates at 77 keeping EOT as the last token, as the reference tokenize(truncate=True)', () => {
    const ids = Array.from(tok.encode(LONG_CAPTION, { context: 77 }));
    expect(ids).toEqual([...LONG_IDS.slice(0, 76), EOT_TOKEN]);
    expect(ids).not.toContain(0);
  });

  it('fits the same caption in 248 tokens, and truncates a threefold caption at 248', () => {
    const ids = Array.from(tok.encode(LONG_CAPTION, { context: 248 }));
    expect(ids.slice(0, 95)).toEqual(LONG_IDS);
    expect(ids.slice(95)).toEqual(new Array(248 - 95).fill(0));
    const triple = [LONG_CAPTION, LONG_CAPTION, LONG_CAPTION].join(' ');
    const body = LONG_IDS.slice(1, -1);
    const long = Array.from(tok.encode(triple, { context: 248 }));
    expect(long.length).toBe(248);
    expect(long).toEqual([SOT_TOKEN, ...[...body, ...body, ...body].slice(0, 246), EOT_TOKEN]);
    expect(tok.tokenCount(triple)).toBe(3 * 93 + 2);
  });

  it('refuses to truncate when asked not to', () => {
    expect(() => tok.encode(LONG_CAPTION, { context: 77, truncate: false })).toThrow(/95 tokens long/);
    expect(tok.encode(LONG_CAPTION, { context: 95, truncate: false })[94]).toBe(EOT_TOKEN);
  });

  it('decodes ids back to the cleaned text', () => {
    expect(tok.decode(tok.encode('A Photo of a CAT, 3.5kg!'))).toBe('a photo of a cat , 3 . 5 kg !');
  });

  it('unescapes HTML like Python html.unescape', () => {
    expect(htmlUnescape('&amp;amp; &lt;b&gt; &#39; &#x27; &eacute; &ampx &notit &#0; &#128; &bogus;')).toBe(
      "&amp; <b> ' ' é &x ¬it \ufffd € &bogus;",
    );
  });

  it('maps bytes to printable characters in the reference vocabulary order', () => {
    const { order, byteChars } = bytesToUnicode();
    expect(order.length).toBe(256);
    expect(new Set(order).size).toBe(256);
    expect(order[0]).toBe('!'); // id 0 is "!", 320 − 256 = 64 is "a"
    expect(order[64]).toBe('a');
    expect(byteChars[0x20]).toBe('\u0120'); // space → Ġ
  });

  it('loads a Hugging Face tokenizer.json with the same vocabulary and gives the same ids', () => {
    const lines = gunzipSync(readFileSync(VOCAB)).toString('utf8').split('\n').slice(1, 48895);
    const { order } = bytesToUnicode();
    const tokens = [...order, ...order.map((c) => c + '</w>'), ...lines.map((l) => l.replace(' ', ''))];
    const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
    const json = JSON.stringify({
      added_tokens: [
        { id: 49406, content: '<|startoftext|>' },
        { id: 49407, content: '<|endoftext|>' },
      ],
      model: { type: 'BPE', vocab, merges: lines.map((l, i) => (i % 2 ? l : l.split(' '))) },
    });
    const hf = ClipTokenizer.fromTokenizerJson(json);
    for (const [text, ids] of REFERENCE) expect([SOT_TOKEN, ...hf.encodeText(text), EOT_TOKEN]).toEqual(ids);
    expect(() => ClipTokenizer.fromTokenizerJson('{"model":{}}')).toThrow(/model.vocab/);
  });

  it('says what is wrong when the vocabulary file is missing or not the original', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-vocab-'));
    expect(() => ClipTokenizer.fromBpeFile(join(dir, 'nope.txt.gz'))).toThrow(/is missing.*sha256 924691ac/);
    const bad = join(dir, 'bpe.txt.gz');
    copyFileSync(VOCAB, bad);
    writeFileSync(bad, Buffer.concat([readFileSync(bad), Buffer.from([0])]));
    let error: unknown;
    try {
      ClipTokenizer.fromBpeFile(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/expected 924691ac.*replace it with the original/);
  });

  it('tokenizes 10k captions quickly', () => {
    const fresh = ClipTokenizer.fromBpeFile(VOCAB);
    const words = LONG_CAPTION.split(' ');
    const captions = Array.from(
      { length: 10_000 },
      (_, i) => words.slice(i % 40, (i % 40) + 25).join(' ') + ` id${i}`,
    );
    const t0 = performance.now();
    let n = 0;
    for (const c of captions) n += fresh.encode(c).length;
    const seconds = (performance.now() - t0) / 1000;
    expect(n).toBe(10_000 * 77);
    console.info(`tokenizer: 10k captions in ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(5);
  });
});

describe('ctgi tokenize', () => {
  it('prints one JSON array per text and notes truncation on stderr', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await main(['tokenize', '--no-pad', 'a photo of a cat', 'A Photo Of A CAT!'], io)).toBe(0);
    expect(out.map((l) => JSON.parse(l))).toEqual([REFERENCE[0]![1], REFERENCE[1]![1]]);
    out.length = 0;
    expect(await main(['tokenize', '--context', '248', LONG_CAPTION], io)).toBe(0);
    expect(JSON.parse(out[0]!)).toHaveLength(248);
    expect(await main(['tokenize', '--context', '10', LONG_CAPTION], io)).toBe(0);
    expect(JSON.parse(out[1]!)).toEqual([...LONG_IDS.slice(0, 9), EOT_TOKEN]);
    expect(err.join('\n')).toMatch(/needs 95 tokens; truncated to 10/);
  });
});
