// A review team's vocabulary (issue 13): who calls, users, leases, agreement. Plain data only.
import type { CaptionId } from '../ids';
import type { Role } from '../access';

/**
 * Who is calling. The desktop app (IPC) and the token `ctgi serve` prints are the workspace's owner: the
 * one local admin, with no login. A named user comes from their own secret link.
 */
export interface Caller {
  kind: 'owner' | 'user';
  name: string;
  role: Role;
}
export const OWNER: Caller = { kind: 'owner', name: 'owner', role: 'admin' };

export interface TeamUser {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt: number | null;
}

export interface ReviewLease {
  captionId: CaptionId;
  holder: string;
  expiresAt: number;
}

export interface AgreementFigures {
  n: number;
  agreed: number;
  kappa: number | null;
}
