import type { Migration } from '../migrate';

// MTG runs, their Q&A rounds and prompt templates (issue 4). Being written now; nothing shipped yet.
export const v4Mtg: Migration = {
  name: 'mtg runs, qa rounds, prompt templates',
  up: () => {},
};
