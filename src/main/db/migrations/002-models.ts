import type { Migration } from '../migrate';

// Registered CLIP models and the vectors they made (issue 3). Being written now; nothing shipped yet.
export const v2Models: Migration = {
  name: 'models and embeddings',
  up: () => {},
};
