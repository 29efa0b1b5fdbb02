import type { Migration } from '../migrate';

// Endpoint profiles, the llm_calls log + response cache, MTG runs and Q&A rounds (issue 4). Being written now.
export const v3Llm: Migration = {
  name: 'llm endpoints, calls cache, mtg runs',
  up: () => {},
};
