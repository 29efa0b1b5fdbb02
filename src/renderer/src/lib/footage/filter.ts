// The footage filter as data, and what it keeps: pure, so the Search page's tabs and a unit test share it.
import type { TrackHitGroup } from '#shared/search/types';
import type { CropOrigin } from '#shared/footage/types';

export interface FootageFilter {
  /** Every camera of the workspace's footage folders, by name; empty when there is no footage. */
  cameraNames: string[];
  cameras: string[];
  fromMs: number | undefined;
  toMs: number | undefined;
  byTrack: boolean;
  /** A camera or a time bound is set. */
  filtered: boolean;
  set: (p: { cameras?: string[]; from?: string; to?: string; byTrack?: boolean }) => void;
}

/**
 * Whether a result passes the filter, for results ranked without it (MTI's saved rows): with a camera or
 * a time bound set, only footage crops of those cameras seen in that range — as the plain search's
 * server-side filter answers.
 */
export function passesFootageFilter(
  footage: CropOrigin | undefined,
  f: Pick<FootageFilter, 'cameras' | 'fromMs' | 'toMs' | 'filtered'>,
): boolean {
  if (!f.filtered) return true;
  if (!footage) return false;
  if (f.cameras.length > 0 && !f.cameras.includes(footage.camera)) return false;
  if (f.fromMs !== undefined && (footage.timeMs === null || footage.timeMs < f.fromMs)) return false;
  if (f.toMs !== undefined && (footage.timeMs === null || footage.timeMs > f.toMs)) return false;
  return true;
}

/** The search's track groups narrowed to the rows the filter kept, each led by its best kept row. */
export function tracksOfRows(
  tracks: readonly TrackHitGroup[],
  rows: readonly { rank: number; fused: number }[],
): TrackHitGroup[] {
  const byRank = new Map(rows.map((r) => [r.rank, r]));
  return tracks.flatMap((t) => {
    const ranks = t.ranks.filter((r) => byRank.has(r));
    const best = byRank.get(ranks[0] ?? -1);
    return best ? [{ ...t, ranks, rank: best.rank, score: best.fused }] : [];
  });
}
