import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Import boundaries (DESIGN.md, CONTEXT.md "Layers"): shared imports nothing of main/renderer/electron/node;
// the renderer never imports main; only the Electron shell (src/main/index.ts, src/main/desktop/,
// src/main/api/ipc.ts) may import electron; and src/main is layered, each layer importing only the
// layers below it and its own (test/unit/layering.test.ts lints a wrong import into each).
const restrict = (patterns) => ['error', { patterns }];

/**
 * The layers of src/main, lowest first. An entry ending in `/` is a folder, any other a module beside
 * it (src/main/<name>.ts). A module may import its own layer and the layers below, never one above;
 * shared/ sits below all of them. Every folder and module of src/main is in exactly one layer (the
 * layering test checks that a new one has been placed).
 */
export const LAYERS = [
  {
    name: 'base',
    why: 'the bottom of main: errors, events, settings folder, safe file reads, hashing, seeded randomness',
    members: ['errors', 'events', 'config', 'files', 'unpacked', 'canonical-json', 'rng'],
  },
  {
    name: 'infrastructure',
    why: 'storage, models, the LLM client and image/video I/O; they may use each other',
    members: ['db/', 'ml/', 'llm/', 'media/'],
  },
  { name: 'pipelines', why: "the paper's algorithms as plain functions", members: ['pipelines/'] },
  {
    name: 'features',
    why: 'jobs, search, review, footage, datasets, team, settings, the vector stores, and the workspace (with the services it owns) that wires them',
    members: [
      'jobs/',
      'search/',
      'review/',
      'footage/',
      'datasets/',
      'team/',
      'settings/',
      'vectors/',
      'workspace',
      'services',
    ],
  },
  {
    name: 'synth',
    why: 'the synthetic world; only the API and the front doors (CLI, demo, smoke test) use it',
    members: ['synth/'],
  },
  { name: 'api', why: 'the service façade', members: ['api/handlers'] },
  {
    name: 'transports',
    why: 'the front doors: HTTP, IPC, the Electron shell, the CLI, the demo and the smoke test',
    members: ['api/http', 'api/ipc', 'desktop/', 'cli/', 'cli', 'index', 'demo', 'smoke'],
  },
];

/**
 * The renderer and the preload load no schemas: zod stays out of their bundles. They may name a contract's
 * types (`import type`); the channel names come from shared/channels.ts, a feature's values from its types.ts.
 * (A relative path to shared/ is refused before this, by SHARED_BY_ALIAS.)
 */
const NO_SCHEMAS = [
  {
    group: ['zod', 'zod/**'],
    message:
      "zod stays out of the renderer's and the preload's bundles: the server validates every call; read a stored value with a plain parser in shared/ (as shared/review/filter.ts does)",
  },
  {
    regex: '^#shared/(.+/)?contract(\\.ts)?$',
    allowTypeImports: true,
    message:
      "the renderer and the preload take only types from a contract (import type): its schemas are zod, which stays out of their bundles; channel names come from shared/channels.ts, a feature's values from its types.ts",
  },
];

/**
 * One way to reach shared/ from main, the preload and the renderer: the `#shared/…` alias (package.json
 * `imports`, which Node, tsx, Vite and TypeScript all resolve from any working folder), not `../../../shared`.
 */
const SHARED_BY_ALIAS = {
  regex: '^(\\.\\./)+(.+/)?shared(/|$)',
  message: 'import shared/ as #shared/<path> (package.json "imports"), not by a relative path',
};

/** Modules of main whose imports may reach electron (the Electron shell). */
const ELECTRON_SHELL = ['index', 'desktop/', 'api/ipc'];

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const memberFiles = (m) => (m.endsWith('/') ? `src/main/${m}**/*.ts` : `src/main/${m}.ts`);
const layerOf = (m) => LAYERS.findIndex((l) => l.members.includes(m));
/** How deep below src/main the layer rules reach (the layering test refuses a deeper file). */
export const MAX_DEPTH = 5;

/**
 * no-restricted-imports patterns for a file of `member` at `depth` folders below src/main: every member of a
 * higher layer, matched as written from there (`../../ml/x` from src/main/db/repos/), so a folder of the
 * same name elsewhere (synth/footage/) is never mistaken for it.
 */
function layerPatterns(member, depth) {
  const rank = layerOf(member);
  const up = depth === 0 ? '\\./' : '(\\.\\./){' + depth + '}';
  const own = member.endsWith('/')
    ? member
    : member.includes('/')
      ? member.slice(0, member.lastIndexOf('/') + 1)
      : '';
  const patterns = [];
  for (const [i, layer] of LAYERS.entries()) {
    if (i <= rank) continue;
    const alternatives = layer.members.map((m) => {
      const name = escapeRe(m.endsWith('/') ? m.slice(0, -1) : m);
      return m.endsWith('/') ? `${name}(/|$)` : `${name}(\\.[jt]s)?$`;
    });
    // A module of the same folder one layer down (api/handlers) reaches the ones above it (api/http) as ./x.
    const siblings =
      own && depth === own.split('/').length - 1
        ? layer.members.filter((m) => m.startsWith(own) && m !== own)
        : [];
    const regex = [`^${up}(${alternatives.join('|')})`];
    if (siblings.length)
      regex.push(`^\\./(${siblings.map((m) => escapeRe(m.slice(own.length))).join('|')})(\\.[jt]s)?$`);
    for (const r of regex) {
      patterns.push({
        regex: r,
        message:
          `layers (CONTEXT.md): ${member.replace(/\/$/, '')} is in "${LAYERS[rank].name}", which may not import ` +
          `"${layer.name}" (${layer.members.join(', ')}). Move the code to the layer that owns it, or pass it in.`,
      });
    }
  }
  return patterns;
}

/** One config block per member of a layer and depth, since a file gets one no-restricted-imports setting. */
function layerBlocks() {
  const blocks = [];
  const members = LAYERS.flatMap((l) => l.members);
  for (const member of members) {
    const electron = ELECTRON_SHELL.includes(member)
      ? []
      : [
          {
            group: ['electron'],
            message: 'core code runs in plain Node: only index.ts, desktop/ and api/ipc.ts touch electron',
          },
        ];
    const common = [
      ...electron,
      { group: ['**/renderer/**'], message: 'main never imports the renderer' },
      SHARED_BY_ALIAS,
    ];
    // Modules inside a folder that is itself a member (api/handlers in api/) are left to their own blocks.
    const inner = members.filter((m) => m !== member && member.endsWith('/') && m.startsWith(member));
    const depths = member.endsWith('/')
      ? Array.from({ length: MAX_DEPTH }, (_, i) => i + 1)
      : [member.split('/').length - 1];
    for (const depth of depths) {
      const files = member.endsWith('/')
        ? [`src/main/${member}${'*/'.repeat(depth - 1)}*.ts`]
        : [memberFiles(member)];
      blocks.push({
        files,
        ...(inner.length ? { ignores: inner.map(memberFiles) } : {}),
        rules: { 'no-restricted-imports': restrict([...common, ...layerPatterns(member, depth)]) },
      });
    }
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'bench-results/**', 'tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['bin/**', 'scripts/**', '*.{js,cjs,mjs}', 'test/**'],
    languageOptions: { globals: globals.node },
  },
  {
    // CommonJS on purpose: electron-builder's config and hooks, which it loads with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['**/main/**', '**/renderer/**', '**/preload/**'],
          message: 'shared is pure: no main/renderer code',
        },
        { group: ['electron', 'node:*', 'better-sqlite3', 'react'], message: 'shared is pure TS' },
      ]),
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // typescript-eslint's version of the rule, for `allowTypeImports`: the renderer may name a contract's
      // types, never load its schemas, so zod stays out of the renderer bundle.
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': restrict([
        { group: ['**/main/**', '**/preload/**'], message: 'the renderer talks only to the typed API' },
        { group: ['electron', 'node:*'], message: 'the renderer has no Node or Electron access' },
        SHARED_BY_ALIAS,
        ...NO_SCHEMAS,
      ]),
    },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': restrict([
        {
          group: ['**/main/**', '**/renderer/**'],
          message: 'the preload bridges only the contract (shared/)',
        },
        SHARED_BY_ALIAS,
        ...NO_SCHEMAS,
      ]),
    },
  },
  ...layerBlocks(),
);
