// The person re-ID protocol of Market-1501 and its followers (issue 16), applied to text queries: the
// captions (human or MTG) of the query-role images rank the gallery-role images, and a match is an image of
// the same person — except that a gallery image of the query's own person seen by the query's own camera is
// taken out of that query's ranking altogether (it would be an easy, same-view match; Market-1501's and
// DukeMTMC-reID's evaluation code removes it the same way). Junk images (-1) are never in the gallery;
// distractors (0000) only when asked (the published Market-1501 gallery holds them; our default leaves them
// out, as the import keeps them apart). CUHK03-NP's detected and labeled crops are two versions of one
// protocol: a query ranks only the gallery of its own version. The metrics are metrics.ts's, unchanged.
import type { MetricsOptions, PersonId } from './metrics';

/** What the rule looks at, for a query (its image) and a gallery image. */
export interface ReidSide {
  pid: PersonId | null;
  camera: string | null;
  /** CUHK03's detected/labeled; compared only when `sameGroupOnly`. */
  group: string | null;
}

/**
 * The exclusion of the re-ID protocol for `retrievalMetrics`: gallery image j leaves query q's ranking when
 * it shows the query's person from the query's camera (both cameras known), or, with `sameGroupOnly`, when
 * it comes from another source group than the query.
 */
export function reidExclusion(
  queries: readonly ReidSide[],
  gallery: readonly ReidSide[],
  opts: { sameGroupOnly?: boolean } = {},
): Required<MetricsOptions>['exclude'] {
  return (q, j) => {
    const a = queries[q]!;
    const b = gallery[j]!;
    if (opts.sameGroupOnly && a.group !== b.group) return true;
    return a.pid !== null && a.pid === b.pid && a.camera !== null && a.camera === b.camera;
  };
}

/** How many gallery images the rule takes out, over all queries (reported, so the effect is visible). */
export function countExcluded(
  queries: readonly ReidSide[],
  gallery: readonly ReidSide[],
  exclude: Required<MetricsOptions>['exclude'],
): number {
  let n = 0;
  for (let q = 0; q < queries.length; q++) for (let j = 0; j < gallery.length; j++) if (exclude(q, j)) n++;
  return n;
}
