import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { AppError } from '../errors';
import { HTML5_ENTITIES } from './tokenizer-entities';

/**
 * The CLIP BPE tokenizer, matching OpenAI's `simple_tokenizer.py` (also copied into IRRA, RDE and open_clip)
 * id for id. Checked against that reference run with Python `regex` + `ftfy` (see test/unit/tokenizer.test.ts).
 *
 * Pipeline, in the reference's order: fix text (ftfy → our subset, below) → html.unescape twice → strip →
 * collapse whitespace runs to one space → lower-case → split by the CLIP pattern → UTF-8 bytes mapped to
 * printable characters (bytes_to_unicode) → BPE by merge rank with `</w>` closing each word → ids.
 */

export const SOT_TOKEN = 49406;
export const EOT_TOKEN = 49407;
export const PAD_TOKEN = 0;
export const DEFAULT_CONTEXT = 77;
/** Context length after positional-embedding stretching (ALGORITHMS.md §2). */
export const LONG_CONTEXT = 248;

export const CLIP_VOCAB_SHA256 = '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a';
const VOCAB_RELATIVE = '../shared/data/clip/bpe_simple_vocab_16e6.txt.gz';
const SOT_TEXT = '<|startoftext|>';
const EOT_TEXT = '<|endoftext|>';
const END_OF_WORD = '</w>';

// Python `regex`'s \s is Unicode White_Space; JS's \s differs (adds U+FEFF, lacks U+0085), so spell it out.
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${WS}]+`, 'gu');
// Python's str.strip() uses str.isspace(), which also counts U+001C–U+001F (JS's trim() would also eat U+FEFF).
const PY_STRIP = new RegExp(`^[${WS}\\u001c-\\u001f]+|[${WS}\\u001c-\\u001f]+$`, 'gu');
const TOKEN_PATTERN = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WS}\\p{L}\\p{N}]+`,
  'giu',
);

export interface EncodeOptions {
  /** Total length including start and end tokens; 77 for stock CLIP, 248 after PES. */
  context?: number;
  /** Cut long texts so that the last kept token is the end token (the reference's `truncate=True`). Default true. */
  truncate?: boolean;
}

export interface TokenizerOptions {
  /**
   * The reference runs `ftfy.fix_text` first. We apply the parts of it that change ordinary captions:
   * curly quotes → straight, stray control characters removed, full-width ASCII → ASCII, NFC.
   * Mojibake repair is not done. Default true; false tokenizes the text exactly as given.
   */
  fixText?: boolean;
}

/**
 * GPT-2's reversible byte → printable character table, so that BPE never sees whitespace or control bytes.
 * Returned in the reference's dict order (printable bytes first, then the rest), which is also the order of the
 * first 256 vocabulary entries; `byteChars[b]` is the character for byte b.
 */
export function bytesToUnicode(): { order: string[]; byteChars: string[] } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const byteChars = new Array<string>(256);
  for (const b of bs) byteChars[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (byteChars[b] === undefined) {
      byteChars[b] = String.fromCodePoint(256 + n++);
      bs.push(b);
    }
  }
  return { order: bs.map((b) => byteChars[b]!), byteChars };
}

const { order: VOCAB_BYTE_ORDER, byteChars: BYTE_CHARS } = bytesToUnicode();

// Python's html._invalid_charrefs: numeric references that browsers (and Python) map to other characters.
const INVALID_CHARREFS: Record<number, string> = {
  0x00: '\ufffd',
  0x0d: '\r',
  0x80: '\u20ac',
  0x81: '\x81',
  0x82: '\u201a',
  0x83: '\u0192',
  0x84: '\u201e',
  0x85: '\u2026',
  0x86: '\u2020',
  0x87: '\u2021',
  0x88: '\u02c6',
  0x89: '\u2030',
  0x8a: '\u0160',
  0x8b: '\u2039',
  0x8c: '\u0152',
  0x8d: '\x8d',
  0x8e: '\u017d',
  0x8f: '\x8f',
  0x90: '\x90',
  0x91: '\u2018',
  0x92: '\u2019',
  0x93: '\u201c',
  0x94: '\u201d',
  0x95: '\u2022',
  0x96: '\u2013',
  0x97: '\u2014',
  0x98: '\u02dc',
  0x99: '\u2122',
  0x9a: '\u0161',
  0x9b: '\u203a',
  0x9c: '\u0153',
  0x9d: '\x9d',
  0x9e: '\u017e',
  0x9f: '\u0178',
};
// Python's html._invalid_codepoints: references to these decode to nothing.
const isInvalidCodepoint = (n: number): boolean =>
  (n >= 0x1 && n <= 0x8) ||
  n === 0xb ||
  (n >= 0xe && n <= 0x1f) ||
  (n >= 0x7f && n <= 0x9f) ||
  (n >= 0xfdd0 && n <= 0xfdef) ||
  (n & 0xfffe) === 0xfffe;
const ENTITY = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python's `html.unescape`, rule for rule (including bare legacy names: "&ampx" → "&x"). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (_whole, s: string) => {
    if (s.startsWith('#')) {
      const hex = s[1] === 'x' || s[1] === 'X';
      const n = Number.parseInt(s.slice(hex ? 2 : 1).replace(/;$/, ''), hex ? 16 : 10);
      const invalid = INVALID_CHARREFS[n];
      if (invalid !== undefined) return invalid;
      if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return '\ufffd';
      if (isInvalidCodepoint(n)) return '';
      return String.fromCodePoint(n);
    }
    const direct = HTML5_ENTITIES[s];
    if (direct !== undefined) return direct;
    for (let x = s.length - 1; x > 1; x--) {
      const v = HTML5_ENTITIES[s.slice(0, x)];
      if (v !== undefined) return v + s.slice(x);
    }
    return `&${s}`;
  });
}

// Tables from ftfy 6 (fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes,
// remove_control_chars), applied in ftfy's order.
const C1_CONTROLS = /[\u0080-\u009f]/g;
const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ',
  '\u0133': 'ij',
  '\u0149': '\u02bcn',
  '\u01f1': 'DZ',
  '\u01f2': 'Dz',
  '\u01f3': 'dz',
  '\u01c4': 'D\u017d',
  '\u01c5': 'D\u017e',
  '\u01c6': 'd\u017e',
  '\u01c7': 'LJ',
  '\u01c8': 'Lj',
  '\u01c9': 'lj',
  '\u01ca': 'NJ',
  '\u01cb': 'Nj',
  '\u01cc': 'nj',
  '\ufb00': 'ff',
  '\ufb01': 'fi',
  '\ufb02': 'fl',
  '\ufb03': 'ffi',
  '\ufb04': 'ffl',
  '\ufb05': '\u017ft',
  '\ufb06': 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g');
const WIDTH_FORMS = /[\u3000\uff01-\uffef]/g;
const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTES = /[\u201c-\u201f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

/**
 * The parts of `ftfy.fix_text` that change real captions. Not done: ftfy's own HTML pass and mojibake
 * (wrong-encoding) repair, which need its statistical model.
 */
function fixTextLite(text: string): string {
  return text
    .replace(C1_CONTROLS, (c) => INVALID_CHARREFS[c.charCodeAt(0)] ?? c) // read as Windows-1252, like browsers
    .replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c)
    .replace(WIDTH_FORMS, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')))
    .replace(SINGLE_QUOTES, "'")
    .replace(DOUBLE_QUOTES, '"')
    .replace(CONTROL_CHARS, '')
    .normalize('NFC');
}

/** The reference's text clean-up, ending lower-cased. */
export function cleanText(text: string, fixText = true): string {
  let t = fixText ? fixTextLite(text) : text;
  t = htmlUnescape(htmlUnescape(t)).replace(PY_STRIP, '');
  return t.replace(WHITESPACE_RUN, ' ').replace(PY_STRIP, '').toLowerCase();
}

/**
 * Where the bundled CLIP vocabulary is: `../shared/data/clip/` beside the repository from the sources
 * (src/main/ml, three levels down) and from a local build (out/main, two levels down); in a packaged app
 * out/main sits in resources/app.asar, so two levels up is resources/, where the package puts it.
 */
export const vocabPath = (): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../..', '.']) {
    const p = resolve(here, up, VOCAB_RELATIVE);
    if (existsSync(p)) return p;
  }
  return resolve(here, '../../..', VOCAB_RELATIVE);
};

/** The vocabulary (in id order) and merges (in rank order) of the gzipped reference BPE file. */
export function bpeTables(gz: Buffer): { vocab: string[]; merges: [string, string][] } {
  const lines = gunzipSync(gz).toString('utf8').split('\n');
  // As the reference: skip the version line, keep 49152 − 256 − 2 merges.
  const merges = lines.slice(1, 49152 - 256 - 2 + 1).map((l) => l.split(' ') as [string, string]);
  const vocab = [
    ...VOCAB_BYTE_ORDER,
    ...VOCAB_BYTE_ORDER.map((c) => c + END_OF_WORD),
    ...merges.map(([a, b]) => a + b),
    SOT_TEXT,
    EOT_TEXT,
  ];
  return { vocab, merges };
}

export class ClipTokenizer {
  private readonly encoder: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, number[]>();
  private readonly fix: boolean;
  private static readonly CACHE_LIMIT = 200_000;

  private constructor(encoder: Map<string, number>, ranks: Map<string, number>, options: TokenizerOptions) {
    this.encoder = encoder;
    this.ranks = ranks;
    this.fix = options.fixText ?? true;
  }

  /** Reads the reference `bpe_simple_vocab_16e6.txt.gz` (default: `../shared/data/clip/` beside the repo). */
  static fromBpeFile(path: string = vocabPath(), options: TokenizerOptions = {}): ClipTokenizer {
    if (!existsSync(path)) {
      throw new AppError(
        'not_found',
        `The CLIP vocabulary ${path} is missing. Put OpenAI's bpe_simple_vocab_16e6.txt.gz there ` +
          `(sha256 ${CLIP_VOCAB_SHA256}; open_clip and the CLIP repository ship it).`,
      );
    }
    const gz = readFileSync(path);
    const sha = createHash('sha256').update(gz).digest('hex');
    if (sha !== CLIP_VOCAB_SHA256) {
      throw new AppError(
        'bad_request',
        `The CLIP vocabulary ${path} has sha256 ${sha}, expected ${CLIP_VOCAB_SHA256}. It is not OpenAI's ` +
          `bpe_simple_vocab_16e6.txt.gz (or it is damaged): replace it with the original file.`,
      );
    }
    const { vocab, merges } = bpeTables(gz);
    const encoder = new Map<string, number>();
    vocab.forEach((v, i) => encoder.set(v, i));
    const ranks = new Map<string, number>();
    merges.forEach(([a, b], i) => ranks.set(`${a} ${b}`, i));
    return new ClipTokenizer(encoder, ranks, options);
  }

  /** A Hugging Face `tokenizer.json` for a CLIP model (BPE with `model.vocab` and `model.merges`). */
  static fromTokenizerJson(json: string | Buffer, options: TokenizerOptions = {}): ClipTokenizer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json.toString());
    } catch (err) {
      throw new AppError('bad_request', `tokenizer.json is not valid JSON (${(err as Error).message}).`);
    }
    const model = (parsed as { model?: { type?: string; vocab?: unknown; merges?: unknown } }).model;
    if (!model || typeof model.vocab !== 'object' || model.vocab === null || !Array.isArray(model.merges)) {
      throw new AppError(
        'bad_request',
        'tokenizer.json has no BPE model.vocab / model.merges: is it a CLIP tokenizer?',
      );
    }
    const encoder = new Map<string, number>(Object.entries(model.vocab as Record<string, number>));
    const added = (parsed as { added_tokens?: { content: string; id: number }[] }).added_tokens ?? [];
    for (const t of added) encoder.set(t.content, t.id);
    for (const [text, id] of [
      [SOT_TEXT, SOT_TOKEN],
      [EOT_TEXT, EOT_TOKEN],
    ] as const) {
      if (encoder.get(text) !== id) {
        throw new AppError(
          'bad_request',
          `tokenizer.json maps ${text} to ${encoder.get(text)}, not ${id}: it is not the CLIP vocabulary.`,
        );
      }
    }
    const ranks = new Map<string, number>();
    (model.merges as (string | [string, string])[]).forEach((m, i) =>
      ranks.set(Array.isArray(m) ? `${m[0]} ${m[1]}` : m, i),
    );
    return new ClipTokenizer(encoder, ranks, options);
  }

  /** Ids of the text without start/end tokens. */
  encodeText(text: string): number[] {
    const out: number[] = [];
    const cleaned = cleanText(text, this.fix);
    for (const m of cleaned.matchAll(TOKEN_PATTERN)) {
      for (const id of this.wordIds(m[0])) out.push(id);
    }
    return out;
  }

  /**
   * `[SOT, …ids, EOT]` padded with 0 to `context` (default 77). Longer texts are cut so the last kept token
   * is EOT when `truncate` (default), else rejected — exactly the reference `tokenize()`.
   */
  encode(text: string, options: EncodeOptions = {}): Int32Array {
    const context = options.context ?? DEFAULT_CONTEXT;
    if (!Number.isInteger(context) || context < 2) {
      throw new AppError('bad_request', `Context length must be a whole number ≥ 2, got ${context}.`);
    }
    const ids = this.encodeText(text);
    const out = new Int32Array(context); // zeros = PAD_TOKEN
    if (ids.length + 2 > context && options.truncate === false) {
      throw new AppError(
        'bad_request',
        `The text is ${ids.length + 2} tokens long, more than the context of ${context}. Shorten it or allow truncation.`,
      );
    }
    out[0] = SOT_TOKEN;
    const kept = Math.min(ids.length, context - 2);
    for (let i = 0; i < kept; i++) out[i + 1] = ids[i]!;
    out[kept + 1] = EOT_TOKEN;
    return out;
  }

  /** Tokens the text needs including start and end, before truncation: the UI warns when this exceeds the context. */
  tokenCount(text: string): number {
    return this.encodeText(text).length + 2;
  }

  /** Inverse mapping, for debugging and the UI (`</w>` becomes a space). */
  decode(ids: ArrayLike<number>): string {
    if (!this.decoder) {
      this.decoder = new Map<number, string>();
      for (const [k, v] of this.encoder) this.decoder.set(v, k);
    }
    const byteOf = new Map<string, number>(BYTE_CHARS.map((c, b) => [c, b]));
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === PAD_TOKEN && i > 0) continue;
      const tok = this.decoder.get(id);
      if (tok === undefined || tok === SOT_TEXT || tok === EOT_TEXT) continue;
      for (const ch of tok.replaceAll(END_OF_WORD, ' '))
        bytes.push(ch === ' ' ? 0x20 : (byteOf.get(ch) ?? 0x3f));
    }
    return Buffer.from(bytes).toString('utf8').trim();
  }

  private decoder: Map<number, string> | undefined;

  private wordIds(token: string): number[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    let ids: number[];
    if (token === SOT_TEXT || token === EOT_TEXT) {
      ids = [this.encoder.get(token)!];
    } else {
      let mapped = '';
      for (const b of Buffer.from(token, 'utf8')) mapped += BYTE_CHARS[b];
      ids = this.bpe(mapped).map((piece) => {
        const id = this.encoder.get(piece);
        if (id === undefined)
          throw new AppError(
            'internal',
            `BPE produced "${piece}", which the vocabulary lacks: the vocabulary and merges do not match.`,
          );
        return id;
      });
    }
    if (this.cache.size >= ClipTokenizer.CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, ids);
    return ids;
  }

  /** Greedy lowest-rank merging, as the reference: each pass merges every non-overlapping occurrence left to right. */
  private bpe(token: string): string[] {
    const chars = Array.from(token);
    if (chars.length === 0) return [];
    let word = chars;
    word[word.length - 1] += END_OF_WORD;
    while (word.length > 1) {
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (best === Infinity) break;
      const next: string[] = [];
      for (let i = 0; i < word.length;) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(word[i]!);
          i += 1;
        }
      }
      word = next;
    }
    return word;
  }
}

let shared: ClipTokenizer | undefined;
/** The process-wide tokenizer over the reference vocabulary (loaded once, ~100 ms). */
export function clipTokenizer(): ClipTokenizer {
  shared ??= ClipTokenizer.fromBpeFile();
  return shared;
}
