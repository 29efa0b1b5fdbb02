import type { Migration } from '../migrate';

// Review desk: saved filters and whatever the audit trail needs beyond migration 1's `reviews` (issue 5).
// Being written now; nothing shipped yet.
export const v5Review: Migration = {
  name: 'review: saved filters, audit additions',
  up: () => {},
};
