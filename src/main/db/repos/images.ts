import type {
  Caption,
  CaptionFilter,
  CaptionSource,
  CaptionStatus,
  ImageDetail,
  ImagePage,
  ImageRole,
  ImageSummary,
  LibraryStats,
  PersonKind,
  Split,
} from '#shared/library/types';
import { CAPTION_STATUSES } from '#shared/library/types';
import {
  asCaptionId,
  asDatasetId,
  asIdentityId,
  asImageId,
  type CaptionId,
  type DatasetId,
  type IdentityId,
  type ImageId,
} from '#shared/ids';
import { stmt, type Statement } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

/**
 * Statements of the import's hot path (several per image, a thousand images a second) come from the
 * connection's statement cache: preparing them anew was a tenth of an import's main-thread time.
 */
const cached = (db: ReadableDb, sql: string): Statement => stmt(db, sql);

export interface ImageRow {
  id: number;
  dataset_id: number;
  rel_path: string;
  sha256: string;
  width: number;
  height: number;
  bytes: number;
  format: string;
  identity_id: number | null;
  camera: string | null;
  split: Split | null;
  role: ImageRole | null;
  person_kind: PersonKind;
  source_group: string | null;
  created_at: number;
}

export interface NewImage {
  datasetId: DatasetId;
  relPath: string;
  sha256: string;
  width: number;
  height: number;
  bytes: number;
  format: string;
  identityId: IdentityId | null;
  camera: string | null;
  split: Split | null;
  /** Re-ID layouts only (issue 16); absent: no role, 'identity' when there is an identity, no group. */
  role?: ImageRole | null;
  personKind?: PersonKind;
  sourceGroup?: string | null;
}

export function insertImage(db: WritableDb, img: NewImage): ImageId {
  const r = cached(
    db,
    `INSERT INTO images (dataset_id, rel_path, sha256, width, height, bytes, format, identity_id, camera, split,
         role, person_kind, source_group, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    img.datasetId,
    img.relPath,
    img.sha256,
    img.width,
    img.height,
    img.bytes,
    img.format,
    img.identityId,
    img.camera,
    img.split,
    img.role ?? null,
    img.personKind ?? (img.identityId === null ? 'unknown' : 'identity'),
    img.sourceGroup ?? null,
    Date.now(),
  );
  return asImageId(Number(r.lastInsertRowid));
}

export function getImageRow(db: ReadableDb, id: ImageId): ImageRow | undefined {
  return stmt(db, `SELECT * FROM images WHERE id = ?`).get(id) as ImageRow | undefined;
}

export function findImageBySha(db: ReadableDb, datasetId: DatasetId, sha256: string): ImageRow | undefined {
  return cached(db, `SELECT * FROM images WHERE dataset_id = ? AND sha256 = ? ORDER BY id LIMIT 1`).get(
    datasetId,
    sha256,
  ) as ImageRow | undefined;
}

export function findImageByPath(db: ReadableDb, datasetId: DatasetId, relPath: string): ImageRow | undefined {
  return cached(db, `SELECT * FROM images WHERE dataset_id = ? AND rel_path = ?`).get(datasetId, relPath) as
    ImageRow | undefined;
}

export function upsertIdentity(db: WritableDb, datasetId: DatasetId, personId: string): IdentityId {
  stmt(db, `INSERT OR IGNORE INTO identities (dataset_id, person_id) VALUES (?, ?)`).run(datasetId, personId);
  const row = stmt(db, `SELECT id FROM identities WHERE dataset_id = ? AND person_id = ?`).get(
    datasetId,
    personId,
  ) as { id: number };
  return asIdentityId(row.id);
}

export function insertCaption(
  db: WritableDb,
  c: { imageId: ImageId; source: CaptionSource; text: string; status: CaptionStatus },
): CaptionId {
  const now = Date.now();
  const r = stmt(
    db,
    `INSERT INTO captions (image_id, source, text, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(c.imageId, c.source, c.text, c.status, now, now);
  return asCaptionId(Number(r.lastInsertRowid));
}

export interface ImageFilter {
  datasetId?: DatasetId | undefined;
  split?: Split | 'none' | undefined;
  personId?: string | undefined;
  captions: CaptionFilter;
}

/**
 * The dataset, split and person conditions every image listing shares (library grid, review queue),
 * appended to `parts`/`params`. Expects `images` as `i` and `identities` as `p` in the query.
 */
export function pushImageScope(
  f: Pick<ImageFilter, 'datasetId' | 'split' | 'personId'>,
  parts: string[],
  params: unknown[],
): void {
  if (f.datasetId !== undefined) {
    parts.push('i.dataset_id = ?');
    params.push(f.datasetId);
  }
  if (f.split === 'none') parts.push('i.split IS NULL');
  else if (f.split !== undefined) {
    parts.push('i.split = ?');
    params.push(f.split);
  }
  if (f.personId !== undefined) {
    parts.push('p.person_id = ?');
    params.push(f.personId);
  }
}

function whereClause(f: ImageFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  pushImageScope(f, parts, params);
  if (f.captions === 'none')
    parts.push('NOT EXISTS (SELECT 1 FROM captions c WHERE c.is_current = 1 AND c.image_id = i.id)');
  else if (f.captions !== 'any') {
    parts.push(
      'EXISTS (SELECT 1 FROM captions c WHERE c.is_current = 1 AND c.image_id = i.id AND c.status = ?)',
    );
    params.push(f.captions);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

interface SummaryRow extends ImageRow {
  person_id: string | null;
  caption_count: number;
}

function toSummary(r: SummaryRow): ImageSummary {
  return {
    id: asImageId(r.id),
    datasetId: asDatasetId(r.dataset_id),
    relPath: r.rel_path,
    width: r.width,
    height: r.height,
    personId: r.person_id,
    split: r.split,
    captionCount: r.caption_count,
  };
}

/** Summaries of the given images, in the order given (ids that no longer exist are skipped). */
export function imageSummaries(db: ReadableDb, ids: readonly ImageId[]): ImageSummary[] {
  if (ids.length === 0) return [];
  const rows = stmt(
    db,
    `SELECT i.*, p.person_id, (SELECT count(*) FROM captions c WHERE c.image_id = i.id) AS caption_count
       FROM images i LEFT JOIN identities p ON p.id = i.identity_id
       WHERE i.id IN (SELECT value FROM json_each(?))`,
  ).all(JSON.stringify(ids)) as SummaryRow[];
  const byId = new Map(rows.map((r) => [r.id, toSummary(r)]));
  return ids.map((id) => byId.get(id)).filter((s): s is ImageSummary => s !== undefined);
}

/** One page of the library in stable id order; `total` sizes the virtualized grid. */
export function listImages(db: ReadableDb, f: ImageFilter, offset: number, limit: number): ImagePage {
  const { sql, params } = whereClause(f);
  const from = `FROM images i LEFT JOIN identities p ON p.id = i.identity_id ${sql}`;
  const total = (stmt(db, `SELECT count(*) AS n ${from}`).get(...params) as { n: number }).n;
  const rows = stmt(
    db,
    `SELECT i.*, p.person_id,
         (SELECT count(*) FROM captions c WHERE c.is_current = 1 AND c.image_id = i.id) AS caption_count
       ${from} ORDER BY i.id LIMIT ? OFFSET ?`,
  ).all(...params, limit, offset) as SummaryRow[];
  return { items: rows.map(toSummary), total };
}

interface CaptionRow {
  id: number;
  image_id: number;
  source: CaptionSource;
  text: string;
  status: CaptionStatus;
  version: number;
  created_at: number;
  updated_at: number;
}

/** The current caption of each chain only: edited-away and undone rows are the review desk's history. */
export function listCaptionsForImage(db: ReadableDb, imageId: ImageId): Caption[] {
  const rows = stmt(db, `SELECT * FROM captions WHERE is_current = 1 AND image_id = ? ORDER BY id`).all(
    imageId,
  ) as CaptionRow[];
  return rows.map((r) => ({
    id: asCaptionId(r.id),
    imageId: asImageId(r.image_id),
    source: r.source,
    text: r.text,
    status: r.status,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

export function getImageDetail(db: ReadableDb, id: ImageId): ImageDetail | undefined {
  const r = stmt(
    db,
    `SELECT i.*, p.person_id, d.name AS dataset_name,
         (SELECT count(*) FROM captions c WHERE c.is_current = 1 AND c.image_id = i.id) AS caption_count
       FROM images i JOIN datasets d ON d.id = i.dataset_id LEFT JOIN identities p ON p.id = i.identity_id
       WHERE i.id = ?`,
  ).get(id) as (SummaryRow & { dataset_name: string }) | undefined;
  if (!r) return undefined;
  return {
    ...toSummary(r),
    datasetName: r.dataset_name,
    identityId: r.identity_id === null ? null : asIdentityId(r.identity_id),
    camera: r.camera,
    role: r.role,
    personKind: r.person_kind,
    sourceGroup: r.source_group,
    sha256: r.sha256,
    bytes: r.bytes,
    format: r.format,
    createdAt: r.created_at,
    captions: listCaptionsForImage(db, id),
  };
}

export function getLibraryStats(db: ReadableDb): LibraryStats {
  const one = (sql: string): number => (stmt(db, sql).get() as { n: number }).n;
  const captions = Object.fromEntries(CAPTION_STATUSES.map((s) => [s, 0])) as Record<CaptionStatus, number>;
  for (const r of stmt(
    db,
    `SELECT status, count(*) AS n FROM captions WHERE is_current = 1 GROUP BY status`,
  ).all() as {
    status: CaptionStatus;
    n: number;
  }[])
    captions[r.status] = r.n;
  const imagesBySplit: LibraryStats['imagesBySplit'] = { train: 0, val: 0, test: 0, none: 0 };
  for (const r of stmt(db, `SELECT split, count(*) AS n FROM images GROUP BY split`).all() as {
    split: Split | null;
    n: number;
  }[])
    imagesBySplit[r.split ?? 'none'] = r.n;
  return {
    datasets: one(`SELECT count(*) AS n FROM datasets`),
    images: one(`SELECT count(*) AS n FROM images`),
    identities: one(`SELECT count(*) AS n FROM identities`),
    captions,
    imagesBySplit,
  };
}

export function countImagesInDataset(db: ReadableDb, datasetId: DatasetId): number {
  return (stmt(db, `SELECT count(*) AS n FROM images WHERE dataset_id = ?`).get(datasetId) as { n: number })
    .n;
}
