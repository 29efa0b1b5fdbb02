import type { Command } from '../command';
import { endpointsCommand } from './endpoints';
import { importCommand } from './import';
import { jobsCommand } from './jobs';
import { embedCommand } from './embed';
import { searchCommand } from './search';
import { evalCommand } from './eval';
import { exportCommand } from './export';
import { modelsCommand } from './models';
import { mtgCommand } from './mtg';
import { oracleCommand } from './oracle';
import { pesCommand } from './pes';
import { scoreCommand } from './score';
import { serveCommand } from './serve';
import { statsCommand } from './stats';
import { synthCommand } from './synth';
import { tokenizeCommand } from './tokenize';
import { vectorsCommand } from './vectors';

/** Every `ctgi` command, in the order `ctgi help` lists them. */
export const commands: readonly Command[] = [
  statsCommand,
  importCommand,
  jobsCommand,
  modelsCommand,
  embedCommand,
  scoreCommand,
  searchCommand,
  vectorsCommand,
  evalCommand,
  exportCommand,
  serveCommand,
  endpointsCommand,
  mtgCommand,
  synthCommand,
  oracleCommand,
  tokenizeCommand,
  pesCommand,
];
