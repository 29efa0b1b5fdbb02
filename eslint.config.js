import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Import boundaries (DESIGN.md): shared imports nothing of main/renderer/electron/node;
// the renderer never imports main; only the Electron shell (src/main/index.ts, src/main/desktop/,
// src/main/api/ipc.ts) may import electron.
const restrict = (patterns) => ['error', { patterns }];

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
      'no-restricted-imports': restrict([
        { group: ['**/main/**', '**/preload/**'], message: 'the renderer talks only to the typed API' },
        { group: ['electron', 'node:*'], message: 'the renderer has no Node or Electron access' },
      ]),
    },
  },
  {
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts', 'src/main/desktop/**', 'src/main/api/ipc.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['electron'],
          message: 'core code runs in plain Node: only index.ts, desktop/ and api/ipc.ts touch electron',
        },
        { group: ['**/renderer/**'], message: 'main never imports the renderer' },
      ]),
    },
  },
);
