// The on-disk backend: one LanceDB table per model in a folder that may be on another disk or shared
// storage (several machines can read one archive). Columns: image_id, view, dataset_id, camera, time,
// split, vector (an image's views are more rows of it: types.ts `VectorRow`); the table's schema metadata carries the model key and dimension, checked on every open.
// Filters become a SQL `where` that LanceDB applies before the vector search (prefilter), backed by
// scalar indices on the filter columns, so a 1 % filter still returns K rows.
// A bulk load writes `<table>.building` beside the table first and removes it when the ANN index is built:
// a process killed in between (SIGKILL while indexing) leaves that marker, and the next open says so and,
// with `rebuild`, drops the table so the caller loads it again from the workspace.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as LanceDb from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';
import { AppError } from '../errors';
import { dotAt } from '../ml/vector-index';
import {
  topImages,
  type StoreIdentity,
  type VectorFilter,
  type VectorHit,
  type VectorRow,
  type VectorSearchOptions,
  type VectorStore,
} from './types';

// LanceDB checks tables with `instanceof` against the apache-arrow it require()s (CommonJS); an ESM import
// would load the package's other build, whose classes fail that check. Load the same one.
// Both load on first use, so a workspace on the memory backend never loads LanceDB's native module.
const requireHere = createRequire(import.meta.url);
let arrowModule: typeof Arrow | undefined;
let lanceModule: typeof LanceDb | undefined;
const lancedbLib = (): typeof LanceDb => (lanceModule ??= requireHere('@lancedb/lancedb') as typeof LanceDb);
const arrowLib = (): typeof Arrow => (arrowModule ??= requireHere('apache-arrow') as typeof Arrow);

export type LanceIndexKind = 'ivf_pq' | 'ivf_hnsw_sq';

export interface LanceOptions extends StoreIdentity {
  /** The folder that holds the tables (created when missing only if `create`). */
  folder: string;
  /** Table name, e.g. the model's name; another model's table of that name is refused. */
  table: string;
  /** Create the folder/table when missing (default true). */
  create?: boolean;
  /** Drop a half-written table (or one of another model) instead of refusing to open it. */
  rebuild?: boolean;
  /** The ANN index to build; absent: by size (`autoIndexKind`). A search reads the kind from the table. */
  index?: LanceIndexKind;
  /** Search-time knobs (defaults by index kind: `SEARCH_KNOBS`). */
  knobs?: SearchKnobs;
}

/**
 * Search-time knobs: IVF partitions probed, the refine factor (refine × k rows rescored from their full
 * vectors; 0 = none) and, for IVF-HNSW-SQ, the HNSW beam width `ef`.
 */
export interface SearchKnobs {
  nprobes?: number;
  refineFactor?: number;
  ef?: number;
  /** A filter keeping at most this many rows is answered by an exact scan of those rows. */
  flatRows?: number;
  /** IVF partitions probed when a filter is set: its rows are few in each, so more are read. */
  filteredNprobes?: number;
}

/**
 * Default knobs per index kind. IVF-PQ is the automatic index above 2M rows, so its knobs come from 10M
 * (`npm run bench:search -- --backend lancedb --sizes 10000000 --queries 100 --sweep …`, docs/archives.md, load
 * ~1): nprobes 60 / refine 50 → p50 38.9 ms, recall@10 0.965 (50 / 30: 29.9 ms, 0.948; 80 / 40: 43.9 ms,
 * 0.970). Recall at one setting moved by up to 0.05 between builds of the same vectors (50 / 30: 0.904 to
 * 0.956 over three), hence the margin. With a 1 % filter through the index, 200 partitions probed → 76 ms,
 * 0.971. IVF-HNSW-SQ, the automatic index up to 2M rows, from 1M (load ~5): ef 200 / refine 2 → 7.1 ms,
 * 0.974 (ef 100: 5.0 ms, 0.928); 1 % filter through the index 28.3 ms, recall@10 1.0, where the exact scan of
 * those 10,000 rows took 259 ms; so only a filter of a few rows goes exact.
 */
export const SEARCH_KNOBS: Record<LanceIndexKind, Required<SearchKnobs>> = {
  ivf_pq: { nprobes: 60, refineFactor: 50, ef: 0, flatRows: 2_000, filteredNprobes: 200 },
  ivf_hnsw_sq: { nprobes: 60, refineFactor: 2, ef: 200, flatRows: 2_000, filteredNprobes: 60 },
};

/**
 * IVF-HNSW-SQ up to this many rows (at 1M, 3.2× faster than IVF-PQ at equal recall@10 0.984); IVF-PQ above
 * (its RSS at 10M: 2.8 GB, measured; HNSW-SQ's 8-bit vectors alone would be ~5 GB there).
 */
export const HNSW_UP_TO = 2_000_000;
export const autoIndexKind = (rows: number): LanceIndexKind =>
  rows <= HNSW_UP_TO ? 'ivf_hnsw_sq' : 'ivf_pq';

/**
 * The distance each ANN index is built and searched with. Our vectors are unit length, so cosine and dot
 * rank alike; but LanceDB 0.31's IVF-HNSW-SQ with `dot` returns distances outside [0, 2] for unit vectors
 * (−6.8 seen) and recall@10 0.02 where cosine gives 0.76 on the same random 64-d table, so it is built on
 * cosine. IVF-PQ with dot measures right (recall@10 0.99 at 200k) and stays.
 */
const ANN_DISTANCE: Record<LanceIndexKind, 'dot' | 'cosine'> = { ivf_pq: 'dot', ivf_hnsw_sq: 'cosine' };

/** Rows from which an ANN index is built; below it a flat scan is fast and exact. */
export const LANCE_INDEX_FROM = 100_000;

/** Rows tied (within rounding) with the k-th that an exact search reads beyond k. */
const EXACT_TIE_ROWS = 10_000;

const META_MODEL = 'ctgi.model';
const META_DIM = 'ctgi.dim';

export const sanitizeTableName = (name: string): string =>
  name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 100) || 'model';

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The filter as LanceDB SQL; null when there is none. */
export function filterSql(f: VectorFilter | undefined): string | null {
  if (!f) return null;
  const parts: string[] = [];
  if (f.datasetIds)
    parts.push(
      f.datasetIds.length ? `dataset_id IN (${f.datasetIds.map((d) => Math.trunc(d)).join(', ')})` : 'false',
    );
  if (f.cameras)
    parts.push(f.cameras.length ? `camera IN (${f.cameras.map(sqlString).join(', ')})` : 'false');
  if (f.timeFrom !== undefined) parts.push(`time >= ${Number(f.timeFrom)}`);
  if (f.timeTo !== undefined) parts.push(`time <= ${Number(f.timeTo)}`);
  if (f.split !== undefined) parts.push(`split = ${sqlString(f.split)}`);
  return parts.length ? parts.join(' AND ') : null;
}

function schemaFor(id: StoreIdentity): Arrow.Schema {
  const arrow = arrowLib();
  return new arrow.Schema(
    [
      new arrow.Field('image_id', new arrow.Int64(), false),
      new arrow.Field('view', new arrow.Int32(), false),
      new arrow.Field('dataset_id', new arrow.Int32(), false),
      new arrow.Field('camera', new arrow.Utf8(), true),
      new arrow.Field('time', new arrow.Float64(), true),
      new arrow.Field('split', new arrow.Utf8(), true),
      new arrow.Field(
        'vector',
        new arrow.FixedSizeList(id.dim, new arrow.Field('item', new arrow.Float32(), true)),
        false,
      ),
    ],
    new Map([
      [META_MODEL, id.modelKey],
      [META_DIM, String(id.dim)],
    ]),
  );
}

/** Rows as one Arrow table, built column by column (no per-value JS objects: 1M × 512 floats is 2 GB). */
function toArrow(schema: Arrow.Schema, dim: number, rows: readonly VectorRow[]): Arrow.Table {
  const arrow = arrowLib();
  const n = rows.length;
  const vec = new Float32Array(n * dim);
  const ids = new BigInt64Array(n);
  const views = new Int32Array(n);
  const ds = new Int32Array(n);
  const times: (number | null)[] = [];
  const cams: (string | null)[] = [];
  const splits: (string | null)[] = [];
  rows.forEach((r, i) => {
    vec.set(r.vector, i * dim);
    ids[i] = BigInt(r.imageId);
    views[i] = r.view;
    ds[i] = r.datasetId;
    times.push(r.time);
    cams.push(r.camera);
    splits.push(r.split);
  });
  const vectorType = schema.fields.find((f) => f.name === 'vector')!.type as Arrow.FixedSizeList;
  const vectors = arrow.makeData({
    type: vectorType,
    length: n,
    nullCount: 0,
    child: arrow.makeData({ type: new arrow.Float32(), length: n * dim, data: vec }),
  });
  const batch = new arrow.RecordBatch(
    schema,
    arrow.makeData({
      type: new arrow.Struct(schema.fields),
      length: n,
      nullCount: 0,
      children: [
        arrow.makeData({ type: new arrow.Int64(), length: n, data: ids }),
        arrow.makeData({ type: new arrow.Int32(), length: n, data: views }),
        arrow.makeData({ type: new arrow.Int32(), length: n, data: ds }),
        arrow.vectorFromArray(cams, new arrow.Utf8()).data[0]!,
        arrow.vectorFromArray(times, new arrow.Float64()).data[0]!,
        arrow.vectorFromArray(splits, new arrow.Utf8()).data[0]!,
        vectors,
      ],
    }),
  );
  return new arrow.Table([batch]);
}

export class LanceVectorStore implements VectorStore {
  readonly backend = 'lancedb' as const;
  readonly modelKey: string;
  readonly dim: number;
  private readonly marker: string;
  private knobs: SearchKnobs;
  /** The kind of the table's vector index as built (read from the table once); null: none (flat scans). */
  private builtKind: Promise<LanceIndexKind | null> | undefined;

  private constructor(
    private readonly conn: LanceDb.Connection,
    private readonly table: LanceDb.Table,
    private readonly opts: LanceOptions,
    private readonly schema: Arrow.Schema,
  ) {
    this.modelKey = opts.modelKey;
    this.dim = opts.dim;
    this.marker = markerPath(opts);
    this.knobs = { ...opts.knobs };
  }

  /** Sets the search-time knobs of this open table, over the defaults (the bench sweeps them on one index). */
  tune(knobs: SearchKnobs): void {
    this.knobs = { ...this.opts.knobs, ...knobs };
  }

  /**
   * The vector index the table holds, whoever built it (another machine sharing the folder, another setting):
   * its kind decides the distance a search must use.
   */
  indexKind(): Promise<LanceIndexKind | null> {
    this.builtKind ??= this.table.listIndices().then((all) => {
      const vector = all.find((i) => i.columns.includes('vector'));
      if (!vector) return null;
      return /hnsw/i.test(vector.indexType) ? 'ivf_hnsw_sq' : 'ivf_pq';
    });
    return this.builtKind;
  }

  static async open(opts: LanceOptions): Promise<LanceVectorStore> {
    const create = opts.create ?? true;
    if (!existsSync(opts.folder)) {
      if (!create)
        throw new AppError(
          'not_found',
          `The vector table folder ${opts.folder} is missing. Mount or restore it, or point the workspace at another ` +
            `folder (ctgi vectors --folder DIR); the vectors are rebuilt there from the workspace.`,
        );
      mkdirSync(opts.folder, { recursive: true });
    } else if (!statSync(opts.folder).isDirectory()) {
      throw new AppError(
        'bad_request',
        `${opts.folder} is not a folder; give a folder for the vector tables.`,
      );
    }
    const name = sanitizeTableName(opts.table);
    const conn = await lancedbLib().connect(opts.folder);
    const schema = schemaFor(opts);
    const names = await conn.tableNames();
    const marker = markerPath(opts);
    if (names.includes(name)) {
      const problem = existsSync(marker)
        ? `was left half-written (indexing stopped before it finished)`
        : await identityProblem(await conn.openTable(name), opts);
      if (problem) {
        if (!opts.rebuild) {
          conn.close();
          throw new AppError(
            'conflict',
            `The vector table "${name}" in ${opts.folder} ${problem}. Nothing is lost: the vectors are kept in the ` +
              `workspace. Rebuild the table (ctgi vectors --rebuild) or choose another folder.`,
          );
        }
        await conn.dropTable(name);
        rmSync(marker, { force: true });
        rmSync(join(opts.folder, `${name}.synced`), { force: true });
      }
    }
    const table = (await conn.tableNames()).includes(name)
      ? await conn.openTable(name)
      : await conn.createEmptyTable(name, schema);
    return new LanceVectorStore(conn, table, opts, schema);
  }

  /** Marks the table as being written until finish(): a kill in between is seen on the next open. */
  private beginWrite(): void {
    if (!existsSync(this.marker)) writeFileSync(this.marker, `${process.pid} ${new Date().toISOString()}\n`);
  }

  async upsert(rows: readonly VectorRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.beginWrite();
    for (const r of rows)
      if (r.vector.length !== this.dim)
        throw new RangeError(`image ${r.imageId}: ${r.vector.length} values, the table holds ${this.dim}`);
    await this.table
      .mergeInsert(['image_id', 'view'])
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute(toArrow(this.schema, this.dim, rows));
  }

  /** Bulk load of rows not in the table yet: one append, no key lookups. */
  async append(rows: readonly VectorRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.beginWrite();
    await this.table.add(toArrow(this.schema, this.dim, rows));
  }

  /** Removes every row (before reloading the table from the workspace). */
  async clear(): Promise<void> {
    this.beginWrite();
    await this.table.delete('true');
  }

  /** Where this table records which workspace state it was last loaded from. */
  get syncPath(): string {
    return join(this.opts.folder, `${sanitizeTableName(this.opts.table)}.synced`);
  }

  async delete(imageIds: readonly number[]): Promise<void> {
    for (let i = 0; i < imageIds.length; i += 10_000)
      await this.table.delete(
        `image_id IN (${imageIds
          .slice(i, i + 10_000)
          .map((x) => Math.trunc(x))
          .join(', ')})`,
      );
  }

  async search(query: Float32Array, k: number, opts: VectorSearchOptions = {}): Promise<VectorHit[]> {
    const where = filterSql(opts.filter);
    const base = (limit: number, distance: 'dot' | 'cosine' = 'dot'): LanceDb.VectorQuery => {
      const q = this.table.vectorSearch(query).distanceType(distance).limit(limit);
      return where ? q.where(where) : q;
    };
    // No index (a small table): LanceDB scans anyway, so the scan is made exact. A filter is applied inside
    // the index search (prefilter, through the scalar indices), with more partitions probed since the kept
    // rows are few in each; a filter of a few rows is scored exactly.
    // Rows are ranked, then images by their best row (an image with views holds several rows).
    const kind = await this.indexKind();
    if (kind === null || opts.exact) return topImages(k, (m) => this.exactSearch(base, query, m));
    const { nprobes, refineFactor, ef, flatRows, filteredNprobes } = { ...SEARCH_KNOBS[kind], ...this.knobs };
    if (where !== null && (await this.table.countRows(where)) <= flatRows)
      return topImages(k, (m) => this.exactSearch(base, query, m));
    const scale = ANN_DISTANCE[kind] === 'cosine' ? Math.sqrt(dotAt(query, 0, query, this.dim)) : 1;
    const annRows = async (m: number): Promise<VectorHit[]> => {
      let q = base(m + 16, ANN_DISTANCE[kind]).nprobes(where === null ? nprobes : filteredNprobes);
      if (refineFactor > 0) q = q.refineFactor(refineFactor);
      // LanceDB refuses a beam narrower than the rows it is asked for (limit × refine).
      if (kind === 'ivf_hnsw_sq') q = q.ef(Math.max(ef, (m + 16) * Math.max(1, refineFactor)));
      const rows = (await q.select(['image_id', '_distance']).toArray()) as {
        image_id: bigint;
        _distance: number;
      }[];
      // LanceDB's dot distance is 1 − q·x; its cosine distance is 1 − q·x / |q| for our unit vectors x, so
      // × |q| gives the same score (a blended MTI query need not be unit length). A few more than m, so
      // that ties at the cut go by image id.
      return rows
        .map((r) => ({ imageId: Number(r.image_id), score: (1 - r._distance) * scale }))
        .sort((a, b) => b.score - a.score || a.imageId - b.imageId)
        .slice(0, m);
    };
    return topImages(k, annRows);
  }

  /**
   * Exact top k rows that equal the memory backend's to the last bit: LanceDB's flat scan finds the k-th
   * distance, then every row within a rounding margin of it is fetched with its vector and rescored with
   * the memory backend's own dot product (float64 sums), ties by image id.
   */
  private async exactSearch(
    base: (limit: number) => LanceDb.VectorQuery,
    query: Float32Array,
    k: number,
  ): Promise<VectorHit[]> {
    const first = (await base(k).bypassVectorIndex().select(['image_id', '_distance']).toArray()) as {
      _distance: number;
    }[];
    if (first.length === 0) return [];
    const edge = first.length < k ? Infinity : first[first.length - 1]!._distance + 1e-4;
    let q = base(k + EXACT_TIE_ROWS).bypassVectorIndex();
    if (Number.isFinite(edge)) q = q.distanceRange(undefined, edge);
    const rows = (await q.select(['image_id', 'vector', '_distance']).toArray()) as {
      image_id: bigint;
      vector: Arrow.Vector<Arrow.Float32>;
    }[];
    return rows
      .map((r) => {
        const v = Float32Array.from(r.vector.toArray() as Float32Array);
        return { imageId: Number(r.image_id), score: dotAt(v, 0, query, this.dim) };
      })
      .sort((a, b) => b.score - a.score || a.imageId - b.imageId)
      .slice(0, k);
  }

  /**
   * The vectors of `imageIds` (each image's rows: its own and its views') are read once (by id, or by one
   * scan when they are most of the table) and scored here with the memory backend's dot product, so both
   * backends give the same bits; an image scores its best row.
   */
  async scoreIds(queries: readonly Float32Array[], imageIds: ArrayLike<number>): Promise<Float32Array[]> {
    const n = imageIds.length;
    const posOf = new Map<number, number>();
    for (let i = 0; i < n; i++) posOf.set(imageIds[i]!, i);
    const out = queries.map(() => new Float32Array(n).fill(NaN));
    const take = (batch: Arrow.RecordBatch | Arrow.Table): void => {
      const ids = batch.getChild('image_id')!;
      const vecs = batch.getChild('vector')!;
      for (let r = 0; r < batch.numRows; r++) {
        const at = posOf.get(Number(ids.get(r)));
        if (at === undefined) continue;
        const v = (vecs.get(r) as Arrow.Vector<Arrow.Float32>).toArray() as Float32Array;
        queries.forEach((q, qi) => {
          const x = dotAt(v, 0, q, this.dim);
          const row = out[qi]!;
          if (!(x <= row[at]!)) row[at] = x;
        });
      }
    };
    const ids = [...posOf.keys()];
    if (ids.length > 0 && ids.length * 4 >= (await this.table.countRows())) {
      for await (const batch of this.table.query().select(['image_id', 'vector'])) take(batch);
    } else {
      for (let i = 0; i < ids.length; i += 10_000) {
        const list = ids.slice(i, i + 10_000).map((x) => Math.trunc(x));
        for await (const batch of this.table
          .query()
          .where(`image_id IN (${list.join(', ')})`)
          .select(['image_id', 'vector']))
          take(batch);
      }
    }
    return out;
  }

  count(filter?: VectorFilter): Promise<number> {
    const where = filterSql(filter);
    return where ? this.table.countRows(where) : this.table.countRows();
  }

  async *rows(): AsyncIterable<VectorRow[]> {
    for await (const batch of this.table.query()) {
      const out: VectorRow[] = [];
      const ids = batch.getChild('image_id')!;
      const views = batch.getChild('view')!;
      const ds = batch.getChild('dataset_id')!;
      const cams = batch.getChild('camera')!;
      const times = batch.getChild('time')!;
      const splits = batch.getChild('split')!;
      const vecs = batch.getChild('vector')!;
      for (let i = 0; i < batch.numRows; i++) {
        const v = vecs.get(i) as Arrow.Vector<Arrow.Float32>;
        out.push({
          imageId: Number(ids.get(i)),
          view: views.get(i) as number,
          datasetId: ds.get(i) as number,
          camera: (cams.get(i) as string | null) ?? null,
          time: (times.get(i) as number | null) ?? null,
          split: (splits.get(i) as string | null) ?? null,
          vector: Float32Array.from(v.toArray() as Float32Array),
        });
      }
      yield out;
    }
  }

  /** Builds the ANN index (large tables) and the scalar indices the filters use; then the table is whole. */
  async finish(): Promise<void> {
    const n = await this.table.countRows();
    if (n >= LANCE_INDEX_FROM) {
      const kind = this.opts.index ?? autoIndexKind(n);
      const numPartitions = Math.max(1, Math.round(Math.sqrt(n)));
      const config =
        kind === 'ivf_pq'
          ? lancedbLib().Index.ivfPq({
              distanceType: 'dot',
              numPartitions,
              numSubVectors: Math.max(1, Math.floor(this.dim / 8)),
            })
          : lancedbLib().Index.hnswSq({
              distanceType: ANN_DISTANCE.ivf_hnsw_sq,
              numPartitions: Math.max(1, Math.round(n / 1_000_000)),
            });
      await this.table.createIndex('vector', { config, replace: true });
      this.builtKind = Promise.resolve(kind);
      await this.table.createIndex('dataset_id', { config: lancedbLib().Index.bitmap(), replace: true });
      await this.table.createIndex('split', { config: lancedbLib().Index.bitmap(), replace: true });
      await this.table.createIndex('camera', { config: lancedbLib().Index.bitmap(), replace: true });
      await this.table.createIndex('time', { config: lancedbLib().Index.btree(), replace: true });
    }
    rmSync(this.marker, { force: true });
  }

  close(): Promise<void> {
    this.table.close();
    this.conn.close();
    return Promise.resolve();
  }
}

const markerPath = (o: { folder: string; table: string }): string =>
  join(o.folder, `${sanitizeTableName(o.table)}.building`);

async function identityProblem(t: LanceDb.Table, id: StoreIdentity): Promise<string | null> {
  const schema = await t.schema();
  const meta = schema.metadata;
  const model = meta.get(META_MODEL);
  const dim = Number(meta.get(META_DIM));
  t.close();
  if (model === undefined) return 'was not written by CTGI Studio (no model key)';
  if (dim !== id.dim) return `holds ${dim}-value vectors, but this model makes ${id.dim}-value vectors`;
  if (model !== id.modelKey) return `holds vectors of another model (${model}, this one is ${id.modelKey})`;
  if (!schema.fields.some((f) => f.name === 'view'))
    return 'was written by an older CTGI Studio (no view column for crop views)';
  return null;
}
