// How the oracle "sees": it decodes the image (any size or format the app re-encoded it to), reads the
// colours of the body regions with layout.ts's `readColours`, and — when it was given the world —
// looks the colour signature up among the world's identities.
//
// THE RULE for what the oracle knows about an image:
// - From the pixels alone: top, bottom, shoes and hair colour; whether there is a cap and its colour;
//   whether there is a bag, its colour and (when the probes say) its type.
// - Sex, age, hair length, sleeves, garment types and glasses leave no trace the layout can read. The
//   oracle takes them from the world's attributes.json: every identity whose colour signature equals
//   the one read from the pixels is a candidate, and a field is known when ALL candidates agree on it
//   (one candidate: everything is known; two people in the same colours who differ in sex: the sex is
//   "cannot tell"). No candidate (an image from elsewhere, or a misread colour): only what the pixels
//   say is known. The world is never consulted by file name, so a resized, re-encoded or renamed
//   image is recognised exactly as well as the original.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { AppError } from '../../errors';
import type { ColourName, PersonAttributes } from '../../pipelines/attributes';
import { nearestColour, readColours, type ColourReading } from '../layout';
import { WORLD_FILES, type GroundTruth } from '../world';
import { factsOf, FIELDS, setFact, type Facts } from './facts';

export interface Percept {
  /** sha256 of the image bytes (the decoded data URL), hex. */
  hash: string;
  width: number;
  height: number;
  facts: Facts;
  /** Nearest palette colour of the whole image (what "what colour is this image?" is about). */
  imageColour: ColourName;
  /** Identities of the world with this colour signature (0 without a world or for a stranger). */
  candidates: number;
  /** The identity, when exactly one matched. */
  personId: number | null;
}

export interface WorldIndex {
  dir: string;
  identities: number;
  /** Colour signature → the identities wearing it. */
  bySignature: Map<string, { personId: number; attributes: PersonAttributes }[]>;
}

/** Colour signature: everything the pixels can show. `bagType` false leaves the bag's type out. */
function signature(
  s: {
    top: string;
    bottom: string;
    shoes: string;
    hair: string;
    hat: string | null;
    bagColour: string | null;
    bagType: string | null;
  },
  withBagType: boolean,
): string {
  return [
    s.top,
    s.bottom,
    s.shoes,
    s.hair,
    s.hat ?? '-',
    s.bagColour ?? '-',
    withBagType ? (s.bagType ?? '-') : '*',
  ].join('|');
}

function signatureOf(a: PersonAttributes, withBagType: boolean): string {
  return signature(
    {
      top: a.top.colour,
      bottom: a.bottom.colour,
      shoes: a.shoes.colour,
      hair: a.hair.colour,
      hat: a.hat.colour,
      bagColour: a.bag.colour,
      bagType: a.bag.type === 'none' ? null : a.bag.type,
    },
    withBagType,
  );
}

/** Reads DIR/attributes.json (written by `ctgi synth`) into a lookup by colour signature. */
export async function loadWorld(dir: string): Promise<WorldIndex> {
  const file = path.join(dir, WORLD_FILES.attributes);
  let truth: GroundTruth;
  try {
    truth = JSON.parse(await readFile(file, 'utf8')) as GroundTruth;
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
    throw new AppError(
      'bad_request',
      `Cannot read the world's ground truth ${file} (${why}). Point --world at a folder made by \`ctgi synth --out DIR\`.`,
    );
  }
  if (truth.version !== 1 || !Array.isArray(truth.identities)) {
    throw new AppError(
      'bad_request',
      `${file} is not a synthetic world's attributes.json (version 1). Regenerate it with \`ctgi synth\`.`,
    );
  }
  const bySignature = new Map<string, { personId: number; attributes: PersonAttributes }[]>();
  const add = (key: string, entry: { personId: number; attributes: PersonAttributes }): void => {
    const list = bySignature.get(key);
    if (list) list.push(entry);
    else bySignature.set(key, [entry]);
  };
  for (const p of truth.identities) {
    const entry = { personId: p.personId, attributes: p.attributes };
    add(signatureOf(p.attributes, true), entry);
    // When the probes cannot tell the bag's type, the oracle looks up the signature without it.
    add(signatureOf(p.attributes, false), entry);
  }
  return { dir, identities: truth.identities.length, bySignature };
}

/** The facts the pixels give, then the world's agreed facts for the matching identities. */
export function factsFromReading(
  reading: ColourReading,
  world: WorldIndex | null,
): { facts: Facts; candidates: number; personId: number | null } {
  const facts: Facts = {
    topColour: reading.top,
    bottomColour: reading.bottom,
    shoesColour: reading.shoes,
    hairColour: reading.hair,
    hat: reading.hat ? 'yes' : 'no',
    bag: reading.bag ? 'yes' : 'no',
  };
  if (reading.hat) facts.hatColour = reading.hat;
  if (reading.bag) {
    facts.bagColour = reading.bag.colour;
    if (reading.bag.type) facts.bagType = reading.bag.type;
  }
  if (!world) return { facts, candidates: 0, personId: null };
  const key = signature(
    {
      ...reading,
      bagColour: reading.bag?.colour ?? null,
      bagType: reading.bag?.type ?? null,
    },
    reading.bag === null || reading.bag.type !== null,
  );
  const candidates = world.bySignature.get(key) ?? [];
  if (candidates.length === 0) return { facts, candidates: 0, personId: null };
  const all = candidates.map((c) => factsOf(c.attributes));
  for (const field of FIELDS) {
    const v = all[0]?.[field];
    if (v !== undefined && all.every((f) => f[field] === v)) setFact(facts, field, v);
  }
  return {
    facts,
    candidates: candidates.length,
    personId: candidates.length === 1 ? (candidates[0]?.personId ?? null) : null,
  };
}

const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+)?((?:;[a-z0-9-]+=[^;,]*)*)(;base64)?,/i;

/** The bytes of a data: URL; anything else is refused with what to send instead. */
export function decodeDataUrl(url: string): Buffer {
  const m = DATA_URL.exec(url.slice(0, 256));
  if (!m) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1] ?? '';
    throw new AppError(
      'bad_request',
      scheme === 'http' || scheme === 'https'
        ? 'The oracle does not fetch image URLs; send the image inline as a data: URL (data:image/png;base64,…).'
        : 'image_url.url must be a data: URL with base64 PNG, JPEG or WebP bytes (data:image/jpeg;base64,…).',
    );
  }
  if (!m[3])
    throw new AppError(
      'bad_request',
      'The image data: URL must be base64-encoded (data:image/png;base64,…).',
    );
  return Buffer.from(url.slice(m[0].length), 'base64');
}

export interface Perception {
  see(url: string): Promise<Percept>;
  readonly stats: { hits: number; misses: number; matched: number; unmatched: number };
}

/**
 * Perception with a cache by image hash: MTG asks ~8 questions about each image and MTI asks several
 * about each anchor, so most requests skip the decode. The cache holds promises, so concurrent
 * questions about a new image decode it once. Bounded: the oldest entries go first.
 */
export function createPerception(world: WorldIndex | null, maxEntries = 20_000): Perception {
  const cache = new Map<string, Promise<Percept>>();
  const stats = { hits: 0, misses: 0, matched: 0, unmatched: 0 };
  const look = async (bytes: Buffer, hash: string): Promise<Percept> => {
    let decoded: { data: Buffer; info: OutputInfo };
    try {
      decoded = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw new AppError(
        'bad_request',
        `Cannot decode the image (${(err as Error).message}). Send PNG, JPEG or WebP bytes.`,
      );
    }
    const { data, info } = decoded;
    const reading = readColours(data, info.width, info.height, info.channels);
    const { facts, candidates, personId } = factsFromReading(reading, world);
    let r = 0;
    let g = 0;
    let b = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      r += data[i] as number;
      g += data[i + 1] as number;
      b += data[i + 2] as number;
    }
    const n = Math.max(1, data.length / info.channels);
    if (candidates > 0) stats.matched++;
    else stats.unmatched++;
    return {
      hash,
      width: info.width,
      height: info.height,
      facts,
      imageColour: nearestColour([r / n, g / n, b / n]).name,
      candidates,
      personId,
    };
  };
  return {
    stats,
    see(url) {
      const bytes = decodeDataUrl(url);
      const hash = createHash('sha256').update(bytes).digest('hex');
      const cached = cache.get(hash);
      if (cached) {
        stats.hits++;
        return cached;
      }
      stats.misses++;
      const p = look(bytes, hash);
      // A failed decode is not cached: the next request may carry a good image under a new hash anyway,
      // and an error entry would only pin memory.
      p.catch(() => cache.delete(hash));
      cache.set(hash, p);
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
      return p;
    },
  };
}
