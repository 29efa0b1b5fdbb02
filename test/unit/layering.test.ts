// The layers of src/main (CONTEXT.md "Layers", eslint.config.js `LAYERS`) are kept by ESLint. This lints
// a wrong import written from inside each layer, through ESLint's own API and the repository's config,
// and expects the boundary rule's error; and a right one that must pass. A layer whose rule went
// missing or matched nothing would fail here, not in review.
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

interface Layer {
  name: string;
  members: string[];
}

const root = resolve(__dirname, '../..');
let eslint: ESLint;
let layers: Layer[];
let maxDepth: number;

beforeAll(async () => {
  eslint = new ESLint({ cwd: root });
  const config = (await import(pathToFileURL(join(root, 'eslint.config.js')).href)) as {
    LAYERS: Layer[];
    MAX_DEPTH: number;
  };
  ({ LAYERS: layers, MAX_DEPTH: maxDepth } = config);
});

/** The import-restriction rules: ESLint's, and typescript-eslint's (the renderer's, for `allowTypeImports`). */
const RESTRICTION_RULES = ['no-restricted-imports', '@typescript-eslint/no-restricted-imports'];

/** The messages of the import-restriction rules for `code` linted as a file at `filePath`. */
async function restrictionErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return result!.messages.filter((m) => RESTRICTION_RULES.includes(m.ruleId ?? '')).map((m) => m.message);
}

/** The messages of the import-boundary rule for `source` imported (as a type) from a file at `filePath`. */
async function boundaryErrors(filePath: string, source: string): Promise<string[]> {
  return restrictionErrors(
    filePath,
    `import type { Thing } from '${source}';\n\nexport type Again = Thing;\n`,
  );
}

async function expectRefused(filePath: string, source: string, says: RegExp): Promise<void> {
  const errors = await boundaryErrors(filePath, source);
  expect(errors, `${filePath} importing ${source}`).toHaveLength(1);
  expect(errors[0]).toMatch(says);
}

async function expectAllowed(filePath: string, source: string): Promise<void> {
  expect(await boundaryErrors(filePath, source), `${filePath} importing ${source}`).toEqual([]);
}

describe('import boundaries', () => {
  it('shared imports nothing of main, the renderer or Node', async () => {
    await expectRefused('src/shared/some-feature.ts', '../main/db/types', /shared is pure/);
    await expectRefused('src/shared/some-feature.ts', 'node:fs', /shared is pure TS/);
    await expectAllowed('src/shared/some-feature.ts', './ids');
  });

  it('base modules import only shared and each other', async () => {
    await expectRefused('src/main/files.ts', './db/types', /"base", which may not import "infrastructure"/);
    await expectRefused('src/main/canonical-json.ts', './workspace', /may not import "features"/);
    await expectAllowed('src/main/files.ts', './errors');
    await expectAllowed('src/main/files.ts', '#shared/ids');
  });

  it('infrastructure (db, ml, llm, media) does not reach up to pipelines or features', async () => {
    // A repo importing a pipeline (db/repos/mtg.ts did, for the prompt-set hash).
    await expectRefused(
      'src/main/db/repos/mtg.ts',
      '../../pipelines/question-pool',
      /"infrastructure", which may not import "pipelines"/,
    );
    // media/serve.ts named the Workspace type; it names what it needs instead.
    await expectRefused('src/main/media/serve.ts', '../workspace', /may not import "features"/);
    await expectRefused('src/main/llm/batch/submit.ts', '../../jobs/mtg', /may not import "features"/);
    await expectAllowed('src/main/ml/preprocess.ts', '../media/image');
    await expectAllowed('src/main/llm/client.ts', '../db/repos/llm');
    await expectAllowed('src/main/db/repos/mtg.ts', '../../canonical-json');
  });

  it('pipelines do not import features or the synthetic world', async () => {
    await expectRefused(
      'src/main/pipelines/eval.ts',
      '../synth/world',
      /"pipelines", which may not import "synth"/,
    );
    await expectRefused('src/main/pipelines/mtg.ts', '../jobs/runner', /may not import "features"/);
    await expectRefused('src/main/pipelines/mti.ts', '../search/text-search', /may not import "features"/);
    await expectAllowed('src/main/pipelines/eval.ts', '../db/repos/embeddings');
    await expectAllowed('src/main/pipelines/mtg.ts', '../llm/client');
  });

  it('allows no upward import: pipelines reach no feature, mti-service included (its split moved what they used)', async () => {
    await expectRefused(
      'src/main/pipelines/eval-mti.ts',
      '../search/mti-service',
      /may not import "features"/,
    );
    await expectRefused('src/main/pipelines/mti.ts', '../search/mti-sessions', /may not import "features"/);
    await expectRefused('src/main/ml/models.ts', '../search/mti-service', /may not import "features"/);
  });

  it('features do not import the API, the transports or the synthetic world', async () => {
    await expectRefused(
      'src/main/review/handlers.ts',
      '../api/handlers',
      /"features", which may not import "api"/,
    );
    await expectRefused('src/main/datasets/export-formats.ts', '../synth/rng', /may not import "synth"/);
    await expectRefused('src/main/jobs/mtg.ts', '../cli/command', /may not import "transports"/);
    // Features may use each other and everything below.
    await expectAllowed('src/main/search/mti-handlers.ts', '../jobs/eval-mti');
    await expectAllowed('src/main/jobs/embed.ts', '../workspace');
    await expectAllowed('src/main/footage/handlers.ts', '#shared/handlers');
  });

  it('the synthetic world does not import the API or the transports', async () => {
    await expectRefused('src/main/synth/world.ts', '../api/handlers', /"synth", which may not import "api"/);
    await expectAllowed('src/main/synth/footage/evaluate.ts', '../../footage/metrics');
    // synth/footage/ is not footage/: a same-named folder elsewhere is not mistaken for a layer.
    await expectAllowed('src/main/synth/toy-clip/vision.ts', '../footage/world');
  });

  it('the façade does not import a transport', async () => {
    await expectRefused('src/main/api/handlers.ts', './http', /"api", which may not import "transports"/);
    await expectRefused('src/main/api/handlers.ts', '../desktop/shell', /may not import "transports"/);
    await expectAllowed('src/main/api/handlers.ts', '../review/handlers');
  });

  it('transports may import everything in main, and only the Electron shell imports electron', async () => {
    await expectAllowed('src/main/cli/commands/synth.ts', '../../synth/world');
    await expectAllowed('src/main/api/http.ts', './handlers');
    await expectAllowed('src/main/desktop/shell.ts', 'electron');
    await expectRefused(
      'src/main/cli/commands/serve.ts',
      'electron',
      /only index.ts, desktop\/ and api\/ipc.ts/,
    );
  });

  it('the renderer and the preload reach main only through shared', async () => {
    await expectRefused('src/renderer/src/lib/api.ts', '../../../main/db/types', /only to the typed API/);
    await expectRefused('src/preload/index.ts', '../main/workspace', /bridges only the contract/);
    await expectAllowed('src/renderer/src/lib/api.ts', '#shared/contract');
  });

  it('main, the preload and the renderer reach shared by its alias, never by ../../shared', async () => {
    for (const [file, relativePath] of [
      ['src/main/files.ts', '../shared/ids'],
      ['src/main/db/repos/images.ts', '../../../shared/library/types'],
      ['src/preload/index.ts', '../shared/channels'],
      ['src/renderer/src/lib/api.ts', '../../../shared/contract'],
    ] as const) {
      await expectRefused(file, relativePath, /import shared\/ as #shared\/<path>/);
      await expectAllowed(file, relativePath.replace(/^(\.\.\/)+/, '#'));
    }
  });

  it('the renderer takes only types from a contract, and never zod (so neither is in its bundle)', async () => {
    const view = 'src/renderer/src/features/review/ReviewView.tsx';
    const contract = '#shared/review/contract';
    const refused = async (code: string, says: RegExp): Promise<void> => {
      const errors = await restrictionErrors(view, code);
      expect(errors, code).toHaveLength(1);
      expect(errors[0]).toMatch(says);
    };
    // The value import ReviewView.tsx had before shared/review/filter.ts.
    await refused(
      `import { reviewFilterSchema } from '${contract}';\n\nexport const f = reviewFilterSchema.safeParse({});\n`,
      /take only types from a contract/,
    );
    await refused(
      `import { invokeSchemas } from '#shared/contract';\n\nexport const s = invokeSchemas;\n`,
      /only types from a contract/,
    );
    await refused(`import '${contract}';\n`, /only types from a contract/);
    await refused(
      `import { z } from 'zod';\n\nexport const s = z.string();\n`,
      /zod stays out of the renderer's and the preload's bundles/,
    );
    await refused(`import type { ZodType } from 'zod';\n\nexport type T = ZodType;\n`, /zod stays out/);
    // Types from a contract, and values from a feature's types.ts or a plain parser, are fine.
    const allowed = [
      `import type { ReviewInvokeResults } from '${contract}';\n\nexport type R = ReviewInvokeResults;\n`,
      `import { type ReviewInvokeResults } from '${contract}';\n\nexport type R = ReviewInvokeResults;\n`,
      `import { REVIEW_ORDERS } from '#shared/review/types';\n\nexport const o = REVIEW_ORDERS;\n`,
      `import { parseReviewFilter } from '#shared/review/filter';\n\nexport const p = parseReviewFilter;\n`,
    ];
    for (const code of allowed) expect(await restrictionErrors(view, code), code).toEqual([]);
    // The preload too: its allow-list is shared/channels.ts.
    expect(
      await restrictionErrors(
        'src/preload/index.ts',
        `import { invokeSchemas } from '#shared/contract';\n\nexport const s = invokeSchemas;\n`,
      ),
    ).toEqual([expect.stringMatching(/take only types from a contract/)]);
    // Main may load the schemas (it validates with them).
    expect(
      await restrictionErrors(
        'src/main/review/handlers.ts',
        `import { reviewFilterSchema } from '#shared/review/contract';\n\nexport const f = reviewFilterSchema;\n`,
      ),
    ).toEqual([]);
  });

  it('places every module of src/main in exactly one layer', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const members = layers.flatMap((l) => l.members);
    const unplaced: string[] = [];
    for (const file of files(join(root, 'src/main'))) {
      const rel = relative(join(root, 'src/main'), file).split('\\').join('/');
      const owners = members.filter((m) => (m.endsWith('/') ? rel.startsWith(m) : rel === `${m}.ts`));
      if (owners.length !== 1) unplaced.push(`${rel}: ${owners.length ? owners.join(', ') : 'no layer'}`);
      // The rules are written per folder depth, down to MAX_DEPTH.
      if (rel.split('/').length - 1 > maxDepth) unplaced.push(`${rel}: deeper than ${maxDepth} folders`);
    }
    expect(unplaced, 'add each to a layer in eslint.config.js and to CONTEXT.md').toEqual([]);
  });
});
