// Canonical JSON, the one way content is turned into text before it is hashed into a key: the LLM
// cache key (llm/hash.ts) and a prompt set's content address (db/repos/mtg.ts, question-pool.ts).
// Keys are stored in workspaces, so the output must never change (test/unit/canonical-json.test.ts
// pins it). It sits beside errors.ts at the bottom of main, so every layer may use it.
import { createHash } from 'node:crypto';

/** The value with every object's keys sorted and undefined members left out (arrays keep their order). */
export function canonicalValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonicalValue);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, canonicalValue((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** JSON with sorted keys: two values with the same content give the same text. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(canonicalValue(v));
}

/** sha256 (hex) of a value's canonical JSON. */
export function canonicalHash(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex');
}
