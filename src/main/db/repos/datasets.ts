import type { Dataset, DatasetFormat, DatasetStatus, ReidLayout } from '#shared/library/types';
import { asDatasetId, type DatasetId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export interface DatasetRow {
  id: number;
  name: string;
  format: DatasetFormat;
  root: string;
  annotation_file: string | null;
  layout: ReidLayout | null;
  status: DatasetStatus;
  created_at: number;
}

export function insertDataset(
  db: WritableDb,
  d: {
    name: string;
    format: DatasetFormat;
    root: string;
    annotationFile: string | null;
    layout?: ReidLayout | null;
  },
): DatasetId {
  const r = stmt(
    db,
    `INSERT INTO datasets (name, format, root, annotation_file, layout, status, created_at)
       VALUES (?, ?, ?, ?, ?, 'importing', ?)`,
  ).run(d.name, d.format, d.root, d.annotationFile, d.layout ?? null, Date.now());
  return asDatasetId(Number(r.lastInsertRowid));
}

export function getDatasetRow(db: ReadableDb, id: DatasetId): DatasetRow | undefined {
  return stmt(db, `SELECT * FROM datasets WHERE id = ?`).get(id) as DatasetRow | undefined;
}

export function updateDatasetStatus(db: WritableDb, id: DatasetId, status: DatasetStatus): void {
  stmt(db, `UPDATE datasets SET status = ? WHERE id = ?`).run(status, id);
}

export function deleteDataset(db: WritableDb, id: DatasetId): boolean {
  return stmt(db, `DELETE FROM datasets WHERE id = ?`).run(id).changes > 0;
}

export function listDatasets(db: ReadableDb): Dataset[] {
  const rows = stmt(
    db,
    `SELECT d.*,
         (SELECT count(*) FROM images i WHERE i.dataset_id = d.id) AS image_count,
         (SELECT count(*) FROM identities p WHERE p.dataset_id = d.id) AS identity_count,
         (SELECT count(*) FROM captions c JOIN images i ON i.id = c.image_id WHERE c.is_current = 1 AND i.dataset_id = d.id)
           AS caption_count
       FROM datasets d ORDER BY d.id`,
  ).all() as (DatasetRow & { image_count: number; identity_count: number; caption_count: number })[];
  return rows.map((r) => ({
    id: asDatasetId(r.id),
    name: r.name,
    format: r.format,
    layout: r.layout,
    status: r.status,
    imageCount: r.image_count,
    identityCount: r.identity_count,
    captionCount: r.caption_count,
    createdAt: r.created_at,
  }));
}
