import type { Migration } from '../migrate';

// Saved searches with their MTI transcripts (issue 6). Being written now; nothing shipped yet.
export const v6Searches: Migration = {
  name: 'searches and MTI transcripts',
  up: () => {},
};
