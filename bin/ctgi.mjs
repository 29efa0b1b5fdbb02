#!/usr/bin/env node
// `ctgi` runs the TypeScript sources directly through tsx: the CLI, the headless server and the tests
// all run the same code, with no separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/cli.ts');
process.exitCode = await main(process.argv.slice(2));
