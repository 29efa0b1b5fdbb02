// Which role each channel needs (issue 13). A Record over every channel, so a new channel does not
// compile until someone decides who may call it. The owner (desktop app, `ctgi serve`'s own token) is
// an admin; named users get what their role allows.
// Zod-free, like channels.ts: the renderer reads the roles from here.
import type { Channel } from './contract';

export const ROLES = ['admin', 'reviewer', 'annotator'] as const;
export type Role = (typeof ROLES)[number];
/** Higher may do all that lower may. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { annotator: 0, reviewer: 1, admin: 2 };

export const CHANNEL_ROLE: Readonly<Record<Channel, Role>> = {
  // Reading and the review desk: everyone on the team.
  'session:whoami': 'annotator',
  'library:stats': 'annotator',
  'datasets:list': 'annotator',
  'images:list': 'annotator',
  'images:get': 'annotator',
  'jobs:list': 'annotator',
  'jobs:get': 'annotator',
  'jobs:issues': 'annotator',
  'models:list': 'annotator',
  'endpoints:list': 'annotator',
  'endpoints:replicas': 'annotator',
  'mtg:runs': 'annotator',
  'mtg:batches': 'annotator',
  'mtg:estimate': 'annotator',
  'usage:summary': 'annotator',
  'prompts:list': 'annotator',
  'search:text': 'annotator',
  'search:tokens': 'annotator',
  'mti:start': 'annotator',
  'mti:step': 'annotator',
  'mti:cancel': 'annotator',
  'searches:list': 'annotator',
  'searches:get': 'annotator',
  'searches:delete': 'annotator',
  'detectors:list': 'annotator',
  'footage:list': 'annotator',
  'footage:get': 'annotator',
  'footage:tracks': 'annotator',
  'footage:origin': 'annotator',
  'video:tools': 'annotator',
  'review:queue': 'annotator',
  'review:item': 'annotator',
  'review:neighbor': 'annotator',
  'review:decide': 'annotator',
  'review:edit': 'annotator',
  'review:undo': 'annotator',
  'review:history': 'annotator',
  'review:stats': 'annotator',
  'review:filters': 'annotator',
  'review:saveFilter': 'annotator',
  'review:deleteFilter': 'annotator',
  'review:scoreCoverage': 'annotator',
  'review:pull': 'annotator',
  'review:renew': 'annotator',
  'review:release': 'annotator',
  'review:leases': 'annotator',
  'export:preview': 'annotator',
  'eval:run': 'annotator',
  'eval:mti-report': 'annotator',
  // Spending GPU or MLLM time, or changing many captions at once: reviewers.
  'review:bulk': 'reviewer',
  'review:adjudications': 'reviewer',
  'review:adjudicate': 'reviewer',
  'team:agreement': 'reviewer',
  'team:dashboard': 'reviewer',
  'review:scoreAll': 'reviewer',
  'mtg:start': 'reviewer',
  'endpoints:probe': 'reviewer',
  'eval:mti-start': 'reviewer',
  'footage:preview-pattern': 'reviewer',
  // The server's files, keys, jobs and people: admins.
  'users:list': 'admin',
  'users:add': 'admin',
  'users:revoke': 'admin',
  'team:setShare': 'admin',
  'datasets:delete': 'admin',
  'jobs:pause': 'admin',
  'jobs:cancel': 'admin',
  'jobs:resume': 'admin',
  'import:start': 'admin',
  'import:detect': 'admin',
  'models:register': 'admin',
  'embed:start': 'admin',
  'endpoints:save': 'admin',
  'endpoints:delete': 'admin',
  'endpoints:reset-key-store': 'admin',
  'mtg:budget': 'admin',
  'prompts:save': 'admin',
  'export:start': 'admin',
  'detectors:register': 'admin',
  'footage:start': 'admin',
};

export const mayCall = (role: Role, channel: Channel): boolean =>
  ROLE_RANK[role] >= ROLE_RANK[CHANNEL_ROLE[channel]];

/** The channels a role may not call (tests and the audit walk these). */
export const channelsAbove = (role: Role): Channel[] =>
  (Object.keys(CHANNEL_ROLE) as Channel[]).filter((c) => !mayCall(role, c));
