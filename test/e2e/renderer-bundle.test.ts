// The renderer's and the preload's bundles carry no schemas (issue 14.4): the renderer takes only types
// from the contract (eslint.config.js, NO_SCHEMAS) and reads its stored filter with shared/review/filter.ts,
// so zod is not in what `electron-vite build` wrote. Reads the build the e2e suite runs against.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const out = (p: string): string => {
  const file = join(root, 'out', p);
  if (!existsSync(file))
    throw new Error(
      `out/${p} is missing: run \`npx electron-vite build\` (or \`npm test\`, which builds first).`,
    );
  return file;
};
/** Strings only zod's code has (its error class and its core type's name). */
const ZOD_ONLY = /\bZodError\b|\$ZodType\b/;

describe('the built bundles', () => {
  it('the renderer loads no zod', () => {
    const html = readFileSync(out('renderer/index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script[^>]*\ssrc="\.?\/?([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const code = readFileSync(out(join('renderer', src)), 'utf8');
      expect(code.length, src).toBeGreaterThan(100_000);
      expect(code.match(ZOD_ONLY)?.[0], `${src} carries zod`).toBeUndefined();
    }
  });

  it('the preload loads no zod', () => {
    expect(readFileSync(out('preload/index.cjs'), 'utf8').match(ZOD_ONLY)?.[0]).toBeUndefined();
  });
});
