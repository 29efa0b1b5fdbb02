// Import as a persisted job: a folder of crops or a TBPS annotation file → images, identities,
// splits and human captions. Each batch of images is written in one transaction together with the
// resume cursor, so a crash leaves the library as of the last batch and the next start continues
// from there: no image twice, none missed.
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { InvokeResults, ParsedArg } from '#shared/contract';
import type { ReidLayout } from '#shared/library/types';
import { asDatasetId, asImageId, type DatasetId, type IdentityId, type JobId } from '#shared/ids';
import { getDatasetRow, insertDataset, updateDatasetStatus, type DatasetRow } from '../db/repos/datasets';
import {
  countImagesInDataset,
  findImageByPath,
  findImageBySha,
  insertCaption,
  insertImage,
  listCaptionsForImage,
  upsertIdentity,
} from '../db/repos/images';
import { getJobRow } from '../db/repos/jobs';
import type { WritableDb } from '../db/types';
import { walkImagesAfter } from '../datasets/cursor-walk';
import type { ImportItem, ItemProblem } from '../datasets/formats';
import {
  countLayoutImages,
  detectLayout,
  layoutModule,
  recogniseLayout,
  type LayoutImage,
  type WalkedLayout,
} from '../datasets/layouts';
import { probeImage, type ProbeResult } from '../datasets/probe';
import {
  annotationItems,
  checkImageRoot,
  checkPathsResolve,
  listAnnotations,
  listFolder,
  loadAnnotationFile,
  type ImportListing,
} from '../datasets/source';
import { AppError, notFound } from '../errors';
import { formatBytes } from '../files';
import { ImageReadError, realImagePath } from '../media/image';
import type { Workspace } from '../workspace';
import { throwIfAborted, type JobContext, type JobDefinition } from './runner';

/** Rows per transaction: big enough that commits are cheap, small enough that a crash loses little. */
const BATCH = 200;
/** Files read, hashed and decoded at once: sharp and fs work on libuv's threads, so this keeps them busy. */
const CONCURRENCY = 8;

export const importParams = z.object({
  datasetId: z.number().int().positive(),
  /** The dataset's name when queued, for the job's title only. */
  name: z.string().optional(),
});
export type ImportParams = z.infer<typeof importParams>;

export interface ImportState {
  /** Index into the item list of the first item not yet written. */
  next: number;
  /** Hash of the item list; if the folder or file changed between attempts the list is walked again. */
  fingerprint: string;
  imported: number;
  duplicates: number;
  failed: number;
  captions: number;
  /**
   * Walked re-ID layouts (issue 16): the last file handed out by the folder walk, in walk order (see
   * datasets/cursor-walk.ts), so a resumed import continues after it without listing what came before;
   * null before the first batch. `next` then counts the layout's images done.
   */
  cursor?: string | null;
  /** Bytes of the images read so far (walked layouts). */
  bytes?: number;
  /** Image files outside the layout's folders, not imported (walked layouts). */
  skipped?: number;
  skippedExample?: string | null;
  /** The layout's image count, from a streaming count before the first batch (walked layouts). */
  total?: number;
}

export type ImportSummary = Pick<ImportState, 'imported' | 'duplicates' | 'failed' | 'captions'> & {
  total: number | null;
  bytes?: number;
  skipped?: number;
};

const fingerprintOf = (items: readonly ImportItem[]): string => {
  const h = createHash('sha1');
  for (const i of items) h.update(i.relPath).update('\n');
  return h.digest('hex');
};

const messageOf = (s: ImportState): string =>
  `${s.imported} imported, ${s.duplicates} duplicate${s.duplicates === 1 ? '' : 's'}, ${s.failed} skipped` +
  (s.bytes === undefined ? '' : `, ${formatBytes(s.bytes)} read`);

const itemOf = (img: LayoutImage): ImportItem => ({
  relPath: img.relPath,
  label: img.relPath,
  personId: img.personId,
  split: img.split,
  camera: img.camera,
  captions: [],
  role: img.role,
  personKind: img.personKind,
  sourceGroup: img.sourceGroup,
  ...(img.warning === undefined ? {} : { warning: img.warning }),
});

async function listItems(
  db: WritableDb,
  datasetId: DatasetId,
): Promise<{ root: string; listing: ImportListing }> {
  const ds = getDatasetRow(db, datasetId);
  if (!ds) throw notFound(`Dataset ${datasetId} (deleted while its import was paused?)`);
  checkImageRoot(ds.root);
  if (ds.layout !== null) {
    const layout = layoutModule(ds.layout);
    if (layout.kind === 'list') {
      const { images, problems } = await layout.list(ds.root);
      return {
        root: ds.root,
        listing: {
          items: images.map(itemOf),
          problems: problems.map((p) => ({ severity: 'error' as const, ...p })),
        },
      };
    }
  }
  if (ds.format === 'folder' || ds.annotation_file === null)
    return { root: ds.root, listing: await listFolder(ds.root) };
  return { root: ds.root, listing: await listAnnotations(ds.annotation_file, ds.format, ds.root) };
}

interface Probed {
  index: number;
  item: ImportItem;
  /** null: already in the library under this path (written by an earlier attempt). */
  result: ProbeResult | null;
}

async function probeBatch(
  db: WritableDb,
  datasetId: DatasetId,
  root: string,
  items: readonly ImportItem[],
  from: number,
  /** False on a first attempt, whose dataset is new and empty: saves a lookup per image. */
  mayExist: boolean,
  /**
   * The items come from a walk that only ever hands out files whose real path is inside the root (walk.ts,
   * cursor-walk.ts): the per-file real-path check is then the same check again, and is left out.
   */
  walked = false,
): Promise<Probed[]> {
  const out: Probed[] = new Array(items.length);
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < items.length) {
      const k = cursor++;
      const item = items[k]!;
      const known = mayExist && findImageByPath(db, datasetId, item.relPath) !== undefined;
      out[k] = {
        index: from + k,
        item,
        result: known
          ? null
          : walked
            ? await probeImage(join(root, item.relPath))
            : await probeInside(root, item.relPath),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}

/**
 * Probes a file only if its real path stays inside the image folder: a symlink that leads out of it is
 * reported, not imported, since the library never reads outside a dataset's folder.
 */
async function probeInside(root: string, relPath: string): Promise<ProbeResult> {
  try {
    await realImagePath(root, relPath);
  } catch (err) {
    if (!(err instanceof ImageReadError)) throw err;
    if (err.problem === 'outside')
      return {
        ok: false,
        message:
          'is a link that leads outside the image folder; not imported (only files inside it are read).',
      };
    // Missing and unreadable files get the probe's own words.
  }
  return probeImage(join(root, relPath));
}

/** Writes one probed batch; must run inside the transaction that also saves the cursor. */
function writeBatch(
  ctx: JobContext<ImportParams, ImportState>,
  datasetId: DatasetId,
  batch: readonly Probed[],
  state: ImportState,
  identities: Map<string, IdentityId>,
): void {
  const { db } = ctx;
  const identityFor = (personId: string): IdentityId => {
    let id = identities.get(personId);
    if (id === undefined) {
      id = upsertIdentity(db, datasetId, personId);
      identities.set(personId, id);
    }
    return id;
  };
  for (const { item, result } of batch) {
    if (result === null) continue;
    if (!result.ok) {
      state.failed++;
      ctx.issue({ severity: 'error', item: item.label, message: result.message });
      continue;
    }
    const img = result.image;
    const twin = findImageBySha(db, datasetId, img.sha256);
    if (twin) {
      state.duplicates++;
      // Same bytes, another record: keep one image, but its human captions are still ground truth.
      const have = new Set(listCaptionsForImage(db, asImageId(twin.id)).map((c) => c.text));
      const added = item.captions.filter((t) => !have.has(t));
      for (const text of added)
        insertCaption(db, { imageId: asImageId(twin.id), source: 'human', text, status: 'accepted' });
      state.captions += added.length;
      ctx.issue({
        severity: 'warning',
        item: item.label,
        message:
          `same bytes as ${twin.rel_path}; not imported again` +
          (added.length ? ` (its ${added.length} caption(s) were added to that image).` : '.'),
      });
      continue;
    }
    const imageId = insertImage(db, {
      datasetId,
      relPath: item.relPath,
      sha256: img.sha256,
      width: img.width,
      height: img.height,
      bytes: img.bytes,
      format: img.format,
      identityId: item.personId === null ? null : identityFor(item.personId),
      camera: item.camera,
      split: item.split,
      role: item.role ?? null,
      personKind: item.personKind ?? (item.personId === null ? 'unknown' : 'identity'),
      sourceGroup: item.sourceGroup ?? null,
    });
    if (item.warning) ctx.issue({ severity: 'warning', item: item.label, message: item.warning });
    if (state.bytes !== undefined) state.bytes += img.bytes;
    // Dataset captions were written by people: ground truth, accepted as they are.
    for (const text of item.captions)
      insertCaption(db, { imageId, source: 'human', text, status: 'accepted' });
    state.captions += item.captions.length;
    state.imported++;
  }
}

async function runImport(ctx: JobContext<ImportParams, ImportState>): Promise<void> {
  const { db, params } = ctx;
  const datasetId = asDatasetId(params.datasetId);
  updateDatasetStatus(db, datasetId, 'importing');
  const ds = getDatasetRow(db, datasetId);
  if (ds?.layout) {
    const layout = layoutModule(ds.layout);
    if (layout.kind === 'walk') return runWalkedImport(ctx, ds, layout);
  }
  const { root, listing } = await listItems(db, datasetId);
  throwIfAborted(ctx.signal);
  const { items } = listing;
  const fingerprint = fingerprintOf(items);
  const total = items.length;
  let state: ImportState;
  if (ctx.state && ctx.state.fingerprint === fingerprint) {
    state = { ...ctx.state };
  } else {
    // First run — or the source changed since the last attempt, so the cursor means nothing: start
    // over; images already written are recognised by path and skipped without a second issue.
    // Counts restart with the pass, except what is already in the library.
    const changed = ctx.state !== undefined;
    state = {
      next: 0,
      fingerprint,
      imported: changed ? countImagesInDataset(db, datasetId) : 0,
      duplicates: 0,
      failed: 0,
      captions: changed ? (ctx.state?.captions ?? 0) : 0,
    };
    db.transaction(() => {
      if (changed) {
        ctx.issue({
          severity: 'warning',
          item: '.',
          message:
            'the images or annotation file changed since this import was interrupted; it was listed again.',
        });
      }
      for (const p of listing.problems) ctx.issue(p);
      ctx.progress({ done: 0, total, message: messageOf(state), state });
    })();
  }

  const identities = new Map<string, IdentityId>();
  const mayExist = ctx.state !== undefined;
  const probe = (from: number): Promise<Probed[]> =>
    probeBatch(db, datasetId, root, items.slice(from, from + BATCH), from, mayExist);
  let pending = state.next < total ? probe(state.next) : null;
  while (pending) {
    const batch = await pending;
    const end = (batch.at(-1)?.index ?? state.next) + 1;
    // Start reading the next batch while this one is written: the database work is synchronous.
    pending = end < total && !ctx.signal.aborted ? probe(end) : null;
    db.transaction(() => {
      writeBatch(ctx, datasetId, batch, state, identities);
      state.next = end;
      ctx.progress({ done: end, total, message: messageOf(state), state });
    })();
    if (ctx.signal.aborted) {
      await pending?.catch(() => undefined);
      throwIfAborted(ctx.signal);
    }
  }
}

interface WalkedBatch {
  probed: Probed[];
  /** The last file the walk handed out for this batch (taken in or not): the cursor once it is written. */
  last: string;
  skipped: number;
  skippedExample: string | null;
  problems: ItemProblem[];
}

/**
 * A re-ID layout read straight from the folder walk: files come one at a time in walk order, each batch is
 * written with the walk's position, so neither the tree nor the item list is ever held whole, and a
 * resumed import continues after the last file written. The total comes from a streaming count first.
 */
async function runWalkedImport(
  ctx: JobContext<ImportParams, ImportState>,
  ds: DatasetRow,
  layout: WalkedLayout,
): Promise<void> {
  const { db } = ctx;
  const datasetId = asDatasetId(ds.id);
  const root = ds.root;
  checkImageRoot(root);
  let state: ImportState;
  if (ctx.state?.cursor !== undefined) {
    state = { ...ctx.state };
  } else {
    const total = await countLayoutImages(root, layout);
    throwIfAborted(ctx.signal);
    state = {
      next: 0,
      fingerprint: `walk:${layout.layout}`,
      imported: 0,
      duplicates: 0,
      failed: 0,
      captions: 0,
      cursor: null,
      bytes: 0,
      skipped: 0,
      skippedExample: null,
      total,
    };
    db.transaction(() => ctx.progress({ done: 0, total, message: messageOf(state), state }))();
  }
  const problems: ItemProblem[] = [];
  const walk = walkImagesAfter(root, state.cursor, (p) => problems.push(p));
  const mayExist = ctx.state !== undefined;

  const pull = async (): Promise<WalkedBatch | null> => {
    const items: ImportItem[] = [];
    let last: string | null = null;
    let skipped = 0;
    let skippedExample: string | null = null;
    while (items.length < BATCH) {
      const next = await walk.next();
      if (next.done) break;
      last = next.value;
      const img = layout.classify(next.value);
      if (img) items.push(itemOf(img));
      else {
        skipped++;
        skippedExample ??= next.value;
      }
    }
    if (last === null) return null;
    const probed = await probeBatch(db, datasetId, root, items, 0, mayExist, true);
    return { probed, last, skipped, skippedExample, problems: problems.splice(0) };
  };

  const identities = new Map<string, IdentityId>();
  let pending: Promise<WalkedBatch | null> = pull();
  for (;;) {
    const batch = await pending;
    if (!batch) break;
    // Read the next batch while this one is written: the database work is synchronous.
    pending = ctx.signal.aborted ? Promise.resolve(null) : pull();
    db.transaction(() => {
      for (const p of batch.problems) ctx.issue(p);
      writeBatch(ctx, datasetId, batch.probed, state, identities);
      state.next += batch.probed.length;
      state.cursor = batch.last;
      state.skipped = (state.skipped ?? 0) + batch.skipped;
      state.skippedExample ??= batch.skippedExample;
      const total = Math.max(state.total ?? 0, state.next);
      ctx.progress({ done: state.next, total, message: messageOf(state), state });
    })();
    if (ctx.signal.aborted) {
      await pending.catch(() => undefined);
      throwIfAborted(ctx.signal);
    }
  }
  db.transaction(() => {
    if (problems.length) for (const p of problems.splice(0)) ctx.issue(p);
    if (state.skipped) {
      ctx.issue({
        severity: 'warning',
        item: '.',
        message:
          `${state.skipped} image file${state.skipped === 1 ? '' : 's'} outside ${layout.label}'s folders ` +
          `(e.g. ${state.skippedExample}) ${state.skipped === 1 ? 'was' : 'were'} not imported.`,
      });
    }
    ctx.progress({ done: state.next, total: state.next, message: messageOf(state), state });
  })();
}

export const importJob: JobDefinition<ImportParams, ImportState> = {
  kind: 'import',
  params: importParams,
  title: (p) => (p.name ? `Import “${p.name}”` : `Import dataset ${p.datasetId}`),
  run: runImport,
  settled(db, params, status) {
    updateDatasetStatus(db, asDatasetId(params.datasetId), status === 'done' ? 'ready' : 'incomplete');
  },
};

/** Counts of a (possibly running) import job, from its saved cursor. */
export function getImportSummary(db: WritableDb, jobId: JobId): ImportSummary | null {
  const row = getJobRow(db, jobId);
  if (!row || row.kind !== 'import' || row.state === null) return null;
  const s = JSON.parse(row.state) as ImportState;
  return {
    imported: s.imported,
    duplicates: s.duplicates,
    failed: s.failed,
    captions: s.captions,
    total: row.total,
    ...(s.bytes === undefined ? {} : { bytes: s.bytes, skipped: s.skipped ?? 0 }),
  };
}

/**
 * Checks everything that can be checked before any row is written — folder, file, JSON, format,
 * fields, whether the paths resolve — then creates the dataset and queues its import job. The
 * annotation file is read without blocking the thread (a regular file under the cap only), so a server
 * keeps answering other requests meanwhile.
 */
export async function startImport(
  ws: Workspace,
  arg: ParsedArg<'import:start'>,
): Promise<InvokeResults['import:start']> {
  const root = resolve(arg.imageRoot);
  checkImageRoot(root);
  let format = arg.format ?? 'folder';
  let annotationFile: string | null = null;
  if (arg.annotationFile !== undefined) {
    annotationFile = resolve(arg.annotationFile);
    const loaded = await loadAnnotationFile(annotationFile, arg.format);
    format = loaded.format;
    checkPathsResolve(
      annotationItems(loaded.format, loaded.records, root, annotationFile, loaded.notes),
      root,
      annotationFile,
    );
  } else if (format !== 'folder') {
    throw new AppError(
      'bad_request',
      `Format ${format} needs its annotation file; give it, or import the folder as plain images.`,
    );
  }
  const choice = arg.layout ?? 'plain';
  if (annotationFile !== null && choice !== 'plain') {
    throw new AppError(
      'bad_request',
      `A re-ID layout (${choice}) is read from the folder itself; leave out the annotation file, or the layout.`,
    );
  }
  let layout: ReidLayout | null = null;
  if (annotationFile === null && choice !== 'plain') {
    layout = choice === 'auto' ? ((await recogniseLayout(root)).layout?.layout ?? null) : choice;
  }
  const name =
    arg.name ?? ((annotationFile ? basename(dirname(annotationFile)) : basename(root)) || 'dataset');
  const datasetId = insertDataset(ws.db, { name, format, root, annotationFile, layout });
  const params: ImportParams = { datasetId, name };
  const job = ws.jobs.enqueue('import', params);
  return { job, datasetId };
}

/** What a folder import would take in, before it starts (the import dialog's preview, `ctgi import --folder`). */
export function detectImportLayout(arg: ParsedArg<'import:detect'>): Promise<InvokeResults['import:detect']> {
  return detectLayout(resolve(arg.folder), arg.layout);
}
