import type { Command } from '../command';
import { endpointsCommand } from './endpoints';
import { importCommand } from './import';
import { jobsCommand } from './jobs';
import { embedCommand } from './embed';
import { searchCommand } from './search';
import { evalCommand } from './eval';
import { exportCommand } from './export';
import { detectorsCommand } from './detectors';
import { footageCommand } from './footage';
import { modelsCommand } from './models';
import { mtgCommand } from './mtg';
import { oracleCommand } from './oracle';
import { pesCommand } from './pes';
import { scoreCommand } from './score';
import { serveCommand } from './serve';
import { statsCommand } from './stats';
import { synthCommand } from './synth';
import { tokenizeCommand } from './tokenize';
import { videoToolsCommand } from './video-tools';
import { usageCommand } from './usage';
import { usersCommand } from './users';
import { vectorsCommand } from './vectors';

/** Every `ctgi` command, in the order `ctgi help` lists them. */
export const commands: readonly Command[] = [
  statsCommand,
  importCommand,
  jobsCommand,
  modelsCommand,
  embedCommand,
  detectorsCommand,
  footageCommand,
  videoToolsCommand,
  scoreCommand,
  searchCommand,
  vectorsCommand,
  evalCommand,
  exportCommand,
  serveCommand,
  usersCommand,
  endpointsCommand,
  mtgCommand,
  usageCommand,
  synthCommand,
  oracleCommand,
  tokenizeCommand,
  pesCommand,
];
