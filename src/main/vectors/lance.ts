// The on-disk backend: one LanceDB table per model in a folder that may be on another disk or shared
// storage (several machines can read one archive). Columns: image_id, dataset_id, camera, time, split,
// vector; the table's schema metadata carries the model key and dimension, checked on every open.
// Filters become a SQL `where` that LanceDB applies before the vector search (prefilter), backed by
// scalar indices on the filter columns, so a 1 % filter still returns K rows.
// A bulk load writes `<table>.building` beside the table first and removes it when the ANN index is built:
// a process killed in between (SIGKILL while indexing) leaves that marker, and the next open says so and,
// with `rebuild`, drops the table so the caller loads it again from the workspace.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import * as lancedb from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';
import { AppError } from '../errors';
import type {
  StoreIdentity,
  VectorFilter,
  VectorHit,
  VectorRow,
  VectorSearchOptions,
  VectorStore,
} from './types';

// LanceDB checks tables with `instanceof` against the apache-arrow it require()s (CommonJS); an ESM import
// would load the package's other build, whose classes fail that check. Load the same one.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow;

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
  index?: LanceIndexKind;
  /** Search-time knobs: IVF partitions probed and the refine factor (exact rescoring of refine × k). */
  nprobes?: number;
  refineFactor?: number;
}

/** Rows from which an ANN index is built; below it a flat scan is fast and exact. */
export const LANCE_INDEX_FROM = 100_000;

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
  return new arrow.Schema(
    [
      new arrow.Field('image_id', new arrow.Int64(), false),
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
  const n = rows.length;
  const vec = new Float32Array(n * dim);
  const ids = new BigInt64Array(n);
  const ds = new Int32Array(n);
  const times: (number | null)[] = [];
  const cams: (string | null)[] = [];
  const splits: (string | null)[] = [];
  rows.forEach((r, i) => {
    vec.set(r.vector, i * dim);
    ids[i] = BigInt(r.imageId);
    ds[i] = r.datasetId;
    times.push(r.time);
    cams.push(r.camera);
    splits.push(r.split);
  });
  const vectorType = schema.fields[5]!.type as Arrow.FixedSizeList;
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

  private constructor(
    private readonly conn: lancedb.Connection,
    private readonly table: lancedb.Table,
    private readonly opts: LanceOptions,
    private readonly schema: Arrow.Schema,
  ) {
    this.modelKey = opts.modelKey;
    this.dim = opts.dim;
    this.marker = markerPath(opts);
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
    const conn = await lancedb.connect(opts.folder);
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
      .mergeInsert('image_id')
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute(toArrow(this.schema, this.dim, rows));
  }

  /** Bulk load of image ids not in the table yet: one append, no key lookups. */
  async append(rows: readonly VectorRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.beginWrite();
    await this.table.add(toArrow(this.schema, this.dim, rows));
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
    // A little more than k, so that rows tied at the cut are ordered by image id like the memory backend.
    let q = this.table
      .vectorSearch(query)
      .distanceType('dot')
      .limit(k + 16);
    const where = filterSql(opts.filter);
    if (where) q = q.where(where);
    if (opts.exact) q = q.bypassVectorIndex();
    else {
      if (this.opts.nprobes) q = q.nprobes(this.opts.nprobes);
      q = q.refineFactor(this.opts.refineFactor ?? 10);
    }
    const rows = (await q.select(['image_id']).toArray()) as { image_id: bigint; _distance: number }[];
    // LanceDB's dot distance is 1 − q·x.
    return rows
      .map((r) => ({ imageId: Number(r.image_id), score: 1 - r._distance }))
      .sort((a, b) => b.score - a.score || a.imageId - b.imageId)
      .slice(0, k);
  }

  count(filter?: VectorFilter): Promise<number> {
    const where = filterSql(filter);
    return where ? this.table.countRows(where) : this.table.countRows();
  }

  async *rows(): AsyncIterable<VectorRow[]> {
    for await (const batch of this.table.query()) {
      const out: VectorRow[] = [];
      const ids = batch.getChild('image_id')!;
      const ds = batch.getChild('dataset_id')!;
      const cams = batch.getChild('camera')!;
      const times = batch.getChild('time')!;
      const splits = batch.getChild('split')!;
      const vecs = batch.getChild('vector')!;
      for (let i = 0; i < batch.numRows; i++) {
        const v = vecs.get(i) as Arrow.Vector<Arrow.Float32>;
        out.push({
          imageId: Number(ids.get(i)),
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
      const kind = this.opts.index ?? 'ivf_pq';
      const numPartitions = Math.max(1, Math.round(Math.sqrt(n)));
      const config =
        kind === 'ivf_pq'
          ? lancedb.Index.ivfPq({
              distanceType: 'dot',
              numPartitions,
              numSubVectors: Math.max(1, Math.floor(this.dim / 8)),
            })
          : lancedb.Index.hnswSq({
              distanceType: 'dot',
              numPartitions: Math.max(1, Math.round(n / 1_000_000)),
            });
      await this.table.createIndex('vector', { config, replace: true });
      await this.table.createIndex('dataset_id', { config: lancedb.Index.bitmap(), replace: true });
      await this.table.createIndex('split', { config: lancedb.Index.bitmap(), replace: true });
      await this.table.createIndex('camera', { config: lancedb.Index.bitmap(), replace: true });
      await this.table.createIndex('time', { config: lancedb.Index.btree(), replace: true });
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

async function identityProblem(t: lancedb.Table, id: StoreIdentity): Promise<string | null> {
  const meta = (await t.schema()).metadata;
  const model = meta.get(META_MODEL);
  const dim = Number(meta.get(META_DIM));
  t.close();
  if (model === undefined) return 'was not written by CTGI Studio (no model key)';
  if (dim !== id.dim) return `holds ${dim}-value vectors, but this model makes ${id.dim}-value vectors`;
  if (model !== id.modelKey) return `holds vectors of another model (${model}, this one is ${id.modelKey})`;
  return null;
}
