// Minimum-cost bipartite assignment (the Hungarian method, in its shortest-augmenting-path form with
// potentials, O(n³)), with the cost limit that ByteTrack's lap.lapjv(extend_cost=True, cost_limit=…) has:
// a pair whose cost is at or above the limit is never made, and leaving a row and a column unmatched costs
// exactly the limit, so the result is the cheapest set of pairs each under the limit.

export interface Assignment {
  /** [row, column] pairs, by row. */
  pairs: [number, number][];
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/**
 * Solves the square problem: the column assigned to each row, minimising the total cost. `cost` is
 * row-major n × n; every entry must be finite.
 */
export function hungarian(cost: Float64Array, n: number): Int32Array {
  // e-maxx's formulation, 1-based with a virtual column 0.
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j]: row matched to column j
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * n + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const colOf = new Int32Array(n);
  for (let j = 1; j <= n; j++) if (p[j]! > 0) colOf[p[j]! - 1] = j - 1;
  return colOf;
}

/**
 * Assigns rows to columns of a rows × cols cost matrix (row-major), leaving out every pair that costs
 * `limit` or more (Infinity: a complete matching of the smaller side).
 */
export function linearAssignment(
  cost: ArrayLike<number>,
  rows: number,
  cols: number,
  limit = Number.POSITIVE_INFINITY,
): Assignment {
  if (rows === 0 || cols === 0) {
    return {
      pairs: [],
      unmatchedRows: Array.from({ length: rows }, (_, i) => i),
      unmatchedCols: Array.from({ length: cols }, (_, j) => j),
    };
  }
  let max = 0;
  for (let k = 0; k < rows * cols; k++)
    if (Number.isFinite(cost[k]!)) max = Math.max(max, Math.abs(cost[k]!));
  // A cost no real solution can prefer: it stands for "never", and keeps the arithmetic finite.
  const never = (Number.isFinite(limit) ? Math.abs(limit) : 0) + max * (rows + cols + 1) + 1;
  const n = rows + cols;
  const ext = new Float64Array(n * n);
  const dummy = Number.isFinite(limit) ? limit / 2 : never / 2;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let c: number;
      if (i < rows && j < cols) {
        const v = cost[i * cols + j]!;
        c = Number.isFinite(v) && v < limit ? v : never;
      } else if (i >= rows && j >= cols) c = 0;
      else c = dummy;
      ext[i * n + j] = c;
    }
  }
  const colOf = hungarian(ext, n);
  const pairs: [number, number][] = [];
  const matchedCols = new Set<number>();
  const unmatchedRows: number[] = [];
  for (let i = 0; i < rows; i++) {
    const j = colOf[i]!;
    const c = j < cols ? cost[i * cols + j]! : Infinity;
    if (j < cols && Number.isFinite(c) && c < limit) {
      pairs.push([i, j]);
      matchedCols.add(j);
    } else unmatchedRows.push(i);
  }
  const unmatchedCols: number[] = [];
  for (let j = 0; j < cols; j++) if (!matchedCols.has(j)) unmatchedCols.push(j);
  return { pairs, unmatchedRows, unmatchedCols };
}
