// Saved searches (migration 6): the transcript and the shown results travel as JSON documents.
import type { MtiParams, MtiResultRow, MtiSearch, MtiSearchSummary, MtiTranscript } from '#shared/mti/types';
import { asModelId, type DatasetId, type ModelId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export interface SearchRow {
  id: number;
  model_id: number;
  dataset_id: number | null;
  query: string;
  vqa_endpoint: string | null;
  aggregator_endpoint: string | null;
  params: string;
  transcript: string;
  refined: string | null;
  results: string;
  status: MtiSearch['status'];
  created_at: number;
  updated_at: number;
}

export interface NewSearch {
  modelId: ModelId;
  datasetId: DatasetId | null;
  query: string;
  vqaEndpoint: string | null;
  aggregatorEndpoint: string | null;
  params: MtiParams;
  transcript: MtiTranscript;
}

export function insertSearch(db: WritableDb, s: NewSearch, now = Date.now()): number {
  const r = stmt(
    db,
    `INSERT INTO searches (model_id, dataset_id, query, vqa_endpoint, aggregator_endpoint, params, transcript, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
  ).run(
    s.modelId,
    s.datasetId,
    s.query,
    s.vqaEndpoint,
    s.aggregatorEndpoint,
    JSON.stringify(s.params),
    JSON.stringify(s.transcript),
    now,
    now,
  );
  return Number(r.lastInsertRowid);
}

export interface SearchUpdate {
  transcript: MtiTranscript;
  refined: string | null;
  results: MtiResultRow[];
  status: MtiSearch['status'];
}

export function updateSearch(db: WritableDb, id: number, u: SearchUpdate, now = Date.now()): void {
  stmt(
    db,
    `UPDATE searches SET transcript = ?, refined = ?, results = ?, status = ?, updated_at = ? WHERE id = ?`,
  ).run(JSON.stringify(u.transcript), u.refined, JSON.stringify(u.results), u.status, now, id);
}

export function getSearchRow(db: ReadableDb, id: number): SearchRow | undefined {
  return stmt(db, `SELECT * FROM searches WHERE id = ?`).get(id) as SearchRow | undefined;
}

const modelName = (db: ReadableDb, id: number): string =>
  (stmt(db, `SELECT name FROM models WHERE id = ?`).get(id) as { name: string } | undefined)?.name ??
  `model ${id}`;

export function toSearch(db: ReadableDb, r: SearchRow): MtiSearch {
  return {
    id: r.id,
    modelId: asModelId(r.model_id),
    modelName: modelName(db, r.model_id),
    datasetId: r.dataset_id,
    query: r.query,
    vqaEndpoint: r.vqa_endpoint,
    aggregatorEndpoint: r.aggregator_endpoint,
    transcript: JSON.parse(r.transcript) as MtiTranscript,
    refined: r.refined,
    results: JSON.parse(r.results) as MtiResultRow[],
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Newest first. */
export function listSearches(db: ReadableDb, limit = 100, offset = 0): MtiSearchSummary[] {
  const rows = stmt(
    db,
    `SELECT s.id, s.query, s.refined, s.status, s.updated_at, m.name AS model_name,
         json_array_length(s.transcript, '$.rounds') AS rounds
       FROM searches s JOIN models m ON m.id = s.model_id
       ORDER BY s.updated_at DESC, s.id DESC LIMIT ? OFFSET ?`,
  ).all(limit, offset) as {
    id: number;
    query: string;
    refined: string | null;
    status: MtiSearch['status'];
    updated_at: number;
    model_name: string;
    rounds: number;
  }[];
  return rows.map((r) => ({
    id: r.id,
    query: r.query,
    refined: r.refined,
    modelName: r.model_name,
    rounds: r.rounds,
    status: r.status,
    updatedAt: r.updated_at,
  }));
}

export function deleteSearch(db: WritableDb, id: number): boolean {
  return stmt(db, `DELETE FROM searches WHERE id = ?`).run(id).changes > 0;
}

/** Searches left 'running' by a process that died: they can never finish, so say so. */
export function markInterruptedSearches(db: WritableDb): number {
  return stmt(db, `UPDATE searches SET status = 'cancelled', updated_at = ? WHERE status = 'running'`).run(
    Date.now(),
  ).changes;
}
