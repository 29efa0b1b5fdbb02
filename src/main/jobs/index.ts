import { embedJob } from './embed';
import { evalMtiJob } from './eval-mti';
import { exportJob } from './export';
import { footageJob } from './footage';
import { importJob } from './import';
import { mtgJob } from './mtg';
import type { AnyJobDefinition } from './runner';
import { scoreJob } from './score';

/** Every job kind the runner knows; one file per kind beside this one. */
export const jobDefinitions: readonly AnyJobDefinition[] = [
  importJob,
  embedJob,
  mtgJob,
  exportJob,
  scoreJob,
  evalMtiJob,
  footageJob,
];
