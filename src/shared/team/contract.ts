// A review team on one server (issue 13): its channels (users, roles, review leases, agreement);
// shared/contract.ts merges them with every other feature's (same rules as every other channel).
import { z } from 'zod';
import type { CaptionId } from '../ids';
import { reviewFilterSchema, reviewerSchema } from '../review/contract';
import { ROLES } from '../access';
import type { Caller, TeamUser, ReviewLease, AgreementFigures } from './types';

export const userNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._@-]*$/u, 'use letters, digits, spaces and . _ - @');

const captionIds = z
  .array(
    z
      .number()
      .int()
      .positive()
      .transform((n) => n as CaptionId),
  )
  .max(500);

export const teamInvokeSchemas = {
  /** Who this page is signed in as (the desk shows it instead of a typed name). */
  'session:whoami': z.object({}),
  /** Admin: everyone who has had a link on this workspace, revoked ones too. */
  'users:list': z.object({}),
  /** Admin: a new person with a fresh secret link; the token is shown once and only its hash is kept. */
  'users:add': z.object({ name: userNameSchema, role: z.enum(ROLES) }),
  /** Admin: the person's link stops working at their next request; their decisions stay in the audit trail. */
  'users:revoke': z.object({ name: userNameSchema }),
  /**
   * The next `size` pending captions of the queue that nobody else holds, leased to the caller for
   * LEASE_MS (their own live leases come first, so a reload gets the same batch back).
   */
  'review:pull': z.object({
    filter: reviewFilterSchema.default({}),
    size: z.number().int().min(1).max(100).default(10),
    /** The owner's typed name; a named user is always leased under their own name. */
    reviewer: reviewerSchema,
  }),
  /** Keeps the caller's leases alive while they work (the desk renews on every keypress, at most every few seconds). */
  'review:renew': z.object({ captionIds, reviewer: reviewerSchema }),
  /** Hands captions back (all of the caller's when none are named): someone else may pull them now. */
  'review:release': z.object({ captionIds: captionIds.optional(), reviewer: reviewerSchema }),
  /** Who holds these captions now (the desk shows "being reviewed by …"). */
  'review:leases': z.object({ captionIds }),
  /** Admin: the share of captions (0–1, picked by a fixed hash of their id) that two people decide blind. */
  'team:setShare': z.object({ share: z.number().min(0).max(1) }),
  /** Agreement on the double-review share: Cohen's κ on accept/reject, overall and per pair of people. */
  'team:agreement': z.object({}),
  /** Per person: decisions, their accept/reject/edit mix and pace; what is left; agreement. */
  'team:dashboard': z.object({}),
  /** Double-reviewed captions whose two blind votes disagree, waiting for a reviewer. */
  'review:adjudications': z.object({}),
  /** A reviewer settles a disagreement. */
  'review:adjudicate': z.object({
    captionId: captionIds.element,
    decision: z.enum(['accept', 'reject']),
  }),
} as const;

export interface TeamInvokeResults {
  'session:whoami': Caller;
  'users:list': TeamUser[];
  'users:add': { user: TeamUser; token: string };
  'users:revoke': { revoked: boolean };
  'review:pull': { captionIds: CaptionId[]; expiresAt: number };
  'review:renew': { renewed: number; expiresAt: number };
  'review:release': { released: number };
  'review:leases': ReviewLease[];
  'team:setShare': { share: number };
  'team:agreement': {
    share: number;
    overall: AgreementFigures;
    pairs: ({ a: string; b: string } & AgreementFigures)[];
  };
  'review:adjudications': {
    captionId: CaptionId;
    votes: { reviewer: string; decision: 'accept' | 'reject'; text: string | null }[];
  }[];
  'review:adjudicate': { decided: 'accept' | 'reject' };
  'team:dashboard': {
    people: {
      reviewer: string;
      decisions: number;
      accepts: number;
      rejects: number;
      edits: number;
      flags: number;
      votes: number;
      lastHour: number;
      perHour: number;
    }[];
    pending: number;
    leased: number;
    adjudications: number;
    agreement: TeamInvokeResults['team:agreement'];
  };
}
