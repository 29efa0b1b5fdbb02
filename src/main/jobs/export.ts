// Export as a persisted job: accepted captions (and their images) → a dataset folder that IRRA/RDE
// trainers read unchanged: `<out>/<annotation file>` + `<out>/imgs/…`. Everything is written into a
// hidden staging folder beside the target and renamed into place at the end, so a failure, a cancel
// or a crash never leaves a partial dataset where a trainer would find it. A resumed export starts
// the staging folder over: it is cheap next to a half-copied folder nobody can trust.
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
  statfsSync,
} from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { InvokeResults, ParsedArg } from '#shared/contract';
import { CAPTION_SOURCES } from '#shared/library/types';
import { EXPORT_FORMATS, EXPORT_IMAGE_MODES, type ExportFormat } from '#shared/review/types';
import type { JobId } from '#shared/ids';
import {
  countExportable,
  countExportableBySource,
  exportRows,
  getCaptionText,
  listExportableImageIds,
  listLastDecisions,
  listMtgProvenance,
} from '../db/repos/export';
import type { WritableDb } from '../db/types';
import {
  ANNOTATION_FILE,
  buildRecords,
  datasetFolderName,
  IMAGE_DIR,
  serializeRecords,
  type ExportImage,
} from '../datasets/export-formats';
import { detectFormat, parseJson, recordsToItems } from '../datasets/formats';
import { AppError } from '../errors';
import { ImageReadError, realImagePath } from '../media/image';
import { cleanCaption } from '../review/text';
import type { Workspace } from '../workspace';
import { throwIfAborted, type JobContext, type JobDefinition } from './runner';

export const exportParams = z.object({
  outDir: z.string().min(1),
  format: z.enum(EXPORT_FORMATS),
  datasetId: z.number().int().positive().optional(),
  images: z.enum(EXPORT_IMAGE_MODES),
  sources: z.array(z.enum(CAPTION_SOURCES)).min(1),
  splitRatios: z.object({ train: z.number(), val: z.number(), test: z.number() }),
  seed: z.number().int(),
  overwrite: z.boolean(),
});
export type ExportParams = z.infer<typeof exportParams>;

export interface ExportState {
  captions: number;
  images: number;
  bytes: number;
  file: string;
  cleaned: number;
}

const COPY_CONCURRENCY = 8;
const errCode = (err: unknown): string =>
  err instanceof Error && 'code' in err ? String(err.code) : 'error';
const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** Model, prompts, the model's own text and the last decision per chain, for the JSONL's provenance. */
function provenanceOf(db: WritableDb, roots: ReadonlySet<number>): Map<number, Record<string, unknown>> {
  const out = new Map<number, Record<string, unknown>>();
  const get = (root: number): Record<string, unknown> => {
    let p = out.get(root);
    if (!p) out.set(root, (p = {}));
    return p;
  };
  for (const r of listLastDecisions(db)) {
    if (roots.has(r.root))
      get(r.root).review = {
        decision: r.action,
        reviewer: r.reviewer,
        at: new Date(r.created_at).toISOString(),
      };
  }
  for (const r of listMtgProvenance(db)) {
    if (!roots.has(r.caption_id)) continue;
    get(r.caption_id).model = {
      mtg_run: r.id,
      vqa: r.vqa_model,
      reconstructor: r.reconstructor_model,
      initial_caption: r.initial_caption,
      prompts:
        r.prompt_name === undefined
          ? null
          : { name: r.prompt_name, version: r.prompt_version, sha256: r.prompt_sha256 },
    };
  }
  return out;
}

/** Rows → one ExportImage per image, captions cleaned (control characters out, NFC). */
export function gatherExport(
  db: WritableDb,
  p: Pick<ExportParams, 'datasetId' | 'sources'>,
  jobId?: JobId,
): {
  images: ExportImage[];
  roots: Map<number, string>;
  bytes: number;
  cleaned: number;
  datasetNames: Map<number, string>;
} {
  const rows = exportRows(db, p, jobId);
  const roots = new Map<number, string>();
  const datasetNames = new Map<number, string>();
  const originals = new Map<number, string>();
  const edited = rows.filter((r) => r.source === 'edited').map((r) => r.root_id);
  if (edited.length) {
    for (const id of edited) originals.set(id, getCaptionText(db, id));
  }
  const prov = provenanceOf(db, new Set(rows.map((r) => r.root_id)));
  const images: ExportImage[] = [];
  let bytes = 0;
  let cleaned = 0;
  let last: ExportImage | undefined;
  for (const r of rows) {
    roots.set(r.dataset_id, r.root);
    datasetNames.set(r.dataset_id, r.dataset_name);
    if (last?.imageId !== r.image_id) {
      last = {
        imageId: r.image_id,
        datasetId: r.dataset_id,
        relPath: r.rel_path,
        personId: r.person_id,
        split: r.split,
        camera: r.camera,
        role: r.role,
        sourceGroup: r.source_group,
        captions: [],
      };
      images.push(last);
      bytes += r.bytes;
    }
    const text = cleanCaption(r.text);
    if (text !== r.text) cleaned++;
    if (text === '') continue;
    last.captions.push({
      captionId: r.caption_id,
      text,
      source: r.source,
      provenance: {
        dataset: r.dataset_name,
        ...(originals.has(r.root_id) ? { original_caption: originals.get(r.root_id) } : {}),
        ...(prov.get(r.root_id) ?? {}),
      },
    });
  }
  return { images: images.filter((i) => i.captions.length > 0), roots, bytes, cleaned, datasetNames };
}

const stagingDir = (outDir: string, jobId: number): string =>
  join(dirname(outDir), `.${basename(outDir)}.ctgi-export-${jobId}`);

function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/** The folder itself if it exists, else its nearest ancestor that does: where missing folders would be made. */
function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

const isInside = (root: string, path: string): boolean => {
  const r = relative(root, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

/**
 * Where an export goes. An absolute path is taken as given. A relative one is placed in the workspace's
 * folder: the one folder a desktop user and a browser on `ctgi serve` both know (the server process's
 * own folder is an accident of how it was started). It must stay in there, by its own `..` and by the
 * links among its folders that exist. The CLI makes --out absolute against the shell's folder first, as
 * command lines do.
 */
export function exportTarget(workspaceFile: string, outDir: string): string {
  if (isAbsolute(outDir)) return resolve(outDir);
  const base = resolve(dirname(workspaceFile));
  const target = resolve(base, outDir);
  if (target === base || !isInside(base, target)) {
    throw new AppError(
      'bad_request',
      `A relative export folder is made inside the workspace's folder ${base}, and "${outDir}" is not a folder in there. Give a name like exports/my-dataset, or an absolute path for a folder elsewhere.`,
    );
  }
  const existing = nearestExisting(target);
  const real = realpathSync(existing);
  if (!isInside(realpathSync(base), real)) {
    throw new AppError(
      'bad_request',
      `"${outDir}" goes through ${existing}, which leads to ${real}, outside the workspace's folder ${base}. Give the absolute path if that is where the export should go.`,
    );
  }
  return target;
}

/**
 * Written into every export: what lets `overwrite` tell a folder this app exported (and may replace)
 * from any other folder (which it never deletes).
 */
export const EXPORT_MARKER = '.ctgi-export.json';
const MARKER_APP = 'CTGI Studio';

/** Whether `dir` holds a marker this app wrote (a small regular file naming the app). */
function hasExportMarker(dir: string): boolean {
  const file = join(dir, EXPORT_MARKER);
  try {
    const st = lstatSync(file);
    if (!st.isFile() || st.size > 64 * 1024) return false;
    const marker = JSON.parse(readFileSync(file, 'utf8')) as { app?: unknown };
    return marker.app === MARKER_APP;
  } catch {
    return false;
  }
}

/**
 * The overwrite rule: a missing or empty folder is always fine; a folder with files only with
 * `overwrite`, and only if this app exported it (its marker file is there). Anything else — a home
 * folder, a dataset, a project — is refused with the reason, whatever `overwrite` says.
 */
export function checkReplaceable(outDir: string, overwrite: boolean, when = ''): void {
  if (!existsSync(outDir) || readdirSync(outDir).length === 0) return;
  if (!overwrite) {
    throw new AppError(
      'conflict',
      `${outDir} ${when}already holds files. Choose an empty or new folder, or allow overwrite (the old folder is replaced only once the export is complete).`,
    );
  }
  if (!hasExportMarker(outDir)) {
    throw new AppError(
      'conflict',
      `${outDir} ${when}holds files and was not written by a CTGI Studio export (it has no ${EXPORT_MARKER}), so overwrite will not delete it. Choose a new or empty folder, or move its files away yourself.`,
    );
  }
}

/**
 * Checks the target before anything is queued: its parent writable (or, where it is missing, the folder it
 * would be made in), the target new or empty (or overwrite), space.
 */
export function checkTarget(outDir: string, overwrite: boolean, needBytes: number): void {
  const parent = dirname(outDir);
  const existing = nearestExisting(parent);
  if (!statSync(existing).isDirectory()) {
    throw new AppError(
      'bad_request',
      `${existing} is a file, so the folder ${parent} cannot be made. Choose another place for the export.`,
    );
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new AppError(
      'bad_request',
      `CTGI Studio cannot write in ${existing} (permission denied). Choose a folder you can write to.`,
    );
  }
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) {
      throw new AppError('bad_request', `${outDir} is a file. Give a folder path for the export.`);
    }
    checkReplaceable(outDir, overwrite);
  }
  const free = freeBytes(existing);
  if (free !== null && free < needBytes) {
    throw new AppError(
      'bad_request',
      `The export needs about ${mb(needBytes)} but only ${mb(free)} are free on the disk of ${existing}. Free some space, choose another disk, or export with hard links or references instead of copies.`,
    );
  }
}

/** Annotation text estimate for the space check: captions, tokens and paths, with JSON's overhead. */
const annotationEstimate = (captions: number, images: number): number => captions * 900 + images * 200 + 4096;

async function placeImages(
  ctx: JobContext<ExportParams, ExportState>,
  stage: string,
  images: readonly ExportImage[],
  paths: ReadonlyMap<number, string>,
  roots: ReadonlyMap<number, string>,
  folders: ReadonlyMap<number, string> | null,
): Promise<void> {
  const { params } = ctx;
  const imgs = join(stage, IMAGE_DIR);
  if (params.images === 'reference') {
    // The images stay where they are: imgs/ (or one folder in it per dataset) links to the source.
    if (folders === null) await symlink(roots.values().next().value!, imgs, 'dir');
    else {
      await mkdir(imgs, { recursive: true });
      for (const [id, folder] of folders) await symlink(roots.get(id)!, join(imgs, folder), 'dir');
    }
    ctx.progress({ done: images.length, total: images.length, message: 'images referenced in place' });
    return;
  }
  let linkFellBack = false;
  let cursor = 0;
  let done = 0;
  const made = new Set<string>();
  let failed = false;
  const worker = async (): Promise<void> => {
    while (cursor < images.length && !failed) {
      throwIfAborted(ctx.signal);
      const img = images[cursor++]!;
      const from = await exportSource(roots.get(img.datasetId)!, img.relPath);
      const to = join(imgs, paths.get(img.imageId)!);
      const dir = dirname(to);
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      try {
        if (params.images === 'hardlink' && !linkFellBack) {
          try {
            await link(from, to);
          } catch (err) {
            if (errCode(err) !== 'EXDEV' && errCode(err) !== 'EPERM') throw err;
            // Another disk (or a filesystem without hard links): copy instead, and say so once.
            linkFellBack = true;
            ctx.issue({
              severity: 'warning',
              item: IMAGE_DIR,
              message: `hard links are not possible here (${errCode(err)}); images were copied instead.`,
            });
            await copyFile(from, to);
          }
        } else await copyFile(from, to);
      } catch (err) {
        if (err instanceof AppError) throw err;
        const code = errCode(err);
        throw new AppError(
          'bad_request',
          code === 'ENOSPC'
            ? `The disk ran out of space while copying images (at ${img.relPath}). Nothing was left behind; free space and export again.`
            : code === 'ENOENT'
              ? `Image ${img.relPath} is missing from its dataset folder. Re-import the dataset or restore the file, then export again.`
              : `Could not place image ${img.relPath} (${code}).`,
        );
      }
      done++;
      if (done % 200 === 0)
        ctx.progress({ done, total: images.length, message: `${done} of ${images.length} images placed` });
    }
  };
  // A failing copy stops the others, and every copy in flight ends before the error goes up: the caller
  // then removes the staging folder, which a copy still writing into it would refill (ENOTEMPTY).
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(COPY_CONCURRENCY, Math.max(1, images.length)) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const firstFailure = results.find((r) => r.status === 'rejected');
  if (firstFailure) throw firstFailure.reason;
  ctx.progress({ done, total: images.length, message: `${done} images placed` });
}

/**
 * The file to copy or link for an image: its real path inside its dataset folder, and a regular file —
 * a symlink swapped in that leads out of the folder is not copied into an export, and a named pipe is
 * not waited on. A missing file falls through to the copy, which names it.
 */
async function exportSource(root: string, relPath: string): Promise<string> {
  try {
    const real = await realImagePath(root, relPath);
    if (!(await stat(real)).isFile())
      throw new AppError(
        'bad_request',
        `Image ${relPath} is not a regular file (${real}); it cannot be exported.`,
      );
    return real;
  } catch (err) {
    if (!(err instanceof ImageReadError)) throw err;
    if (err.problem === 'missing') return join(root, relPath);
    throw new AppError('bad_request', `Image ${relPath} cannot be exported: ${err.message}`);
  }
}

/** Reads the file back with the import's own parser: what we wrote is what a loader will read. */
function selfCheck(format: ExportFormat, fileName: string, text: string, expected: number): void {
  if (format === 'jsonl') {
    const lines = text.split('\n').filter((l) => l !== '');
    for (const l of lines) JSON.parse(l);
    if (lines.length !== expected)
      throw new Error(`JSONL self-check: ${lines.length} lines, expected ${expected}.`);
    return;
  }
  const data = parseJson(text, fileName);
  const detected = detectFormat(fileName, data, format);
  const { items, problems } = recordsToItems(detected, data as unknown[]);
  if (problems.length > 0 || items.length !== expected) {
    throw new Error(
      `Self-check of ${fileName} failed: ${problems[0]?.message ?? `${items.length} records, expected ${expected}`}`,
    );
  }
}

async function runExport(ctx: JobContext<ExportParams, ExportState>): Promise<void> {
  const { db, params } = ctx;
  const outDir = params.outDir;
  const stage = stagingDir(outDir, ctx.jobId);
  await rm(stage, { recursive: true, force: true });
  try {
    const gathered = gatherExport(db, params, ctx.jobId);
    if (gathered.images.length === 0) {
      throw new AppError(
        'bad_request',
        'Nothing to export: no accepted captions match. Accept captions in Review first.',
      );
    }
    const multi = gathered.roots.size > 1;
    const folders = multi
      ? new Map([...gathered.datasetNames].map(([id, name]) => [id, datasetFolderName(id, name)]))
      : null;
    const set = buildRecords(params.format, gathered.images, {
      ratios: params.splitRatios,
      seed: params.seed,
      datasetFolders: folders,
    });
    const fileName = ANNOTATION_FILE[params.format];
    ctx.progress({
      done: 0,
      total: gathered.images.length,
      message: `exporting ${set.captions} captions of ${gathered.images.length} images`,
    });
    if (gathered.cleaned > 0) {
      ctx.issue({
        severity: 'warning',
        item: fileName,
        message: `${gathered.cleaned} caption(s) had control or invisible characters (or broken Unicode); they were written cleaned.`,
      });
    }
    await mkdir(stage, { recursive: true });
    await placeImages(ctx, stage, gathered.images, set.paths, gathered.roots, folders);
    throwIfAborted(ctx.signal);
    const text = serializeRecords(set);
    selfCheck(params.format, fileName, text, set.records.length);
    await writeFile(join(stage, fileName), text, 'utf8');
    const marker = {
      app: MARKER_APP,
      format: params.format,
      files: [fileName, IMAGE_DIR],
      exportedAt: new Date().toISOString(),
      job: ctx.jobId,
    };
    await writeFile(join(stage, EXPORT_MARKER), `${JSON.stringify(marker, null, 2)}\n`, 'utf8');
    throwIfAborted(ctx.signal);
    // Into place: the staging folder becomes the export in one rename (same parent, same disk).
    let old: string | null = null;
    if (existsSync(outDir)) {
      // Checked again: the folder may have been filled (or its marker removed) while the job ran.
      checkReplaceable(outDir, params.overwrite, 'was changed while exporting and now ');
      old = `${stage}.old`;
      await rename(outDir, old);
    }
    await rename(stage, outDir);
    if (old) await rm(old, { recursive: true, force: true });
    const state: ExportState = {
      captions: set.captions,
      images: gathered.images.length,
      bytes: Buffer.byteLength(text),
      file: join(outDir, fileName),
      cleaned: gathered.cleaned,
    };
    ctx.progress({
      done: gathered.images.length,
      total: gathered.images.length,
      message: `${set.captions} captions of ${gathered.images.length} images → ${state.file} (${mb(state.bytes)})`,
      state,
    });
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    if (err instanceof AppError || !(err instanceof Error) || !('code' in err)) throw err;
    const code = errCode(err);
    throw new AppError(
      'bad_request',
      code === 'ENOSPC'
        ? `The disk of ${dirname(outDir)} ran out of space; nothing was left behind. Free space and export again.`
        : code === 'EACCES' || code === 'EPERM'
          ? `Permission denied writing the export in ${dirname(outDir)}; nothing was left behind. Choose a folder you can write to.`
          : `The export failed (${code}): ${err.message}. Nothing was left behind.`,
    );
  }
}

export const exportJob: JobDefinition<ExportParams, ExportState> = {
  kind: 'export',
  params: exportParams,
  title: (p) => `Export ${p.format} → ${basename(p.outDir)}`,
  // The images whose accepted captions are exported, as they were when the export was asked for.
  scope: (db, p) => listExportableImageIds(db, p),
  run: runExport,
};

/** Checks what can be checked at once (something to export, target folder, space), then queues the job. */
export function startExport(ws: Workspace, arg: ParsedArg<'export:start'>): InvokeResults['export:start'] {
  const outDir = exportTarget(ws.file, arg.outDir);
  const sources = arg.sources ?? [...CAPTION_SOURCES];
  const counts = countExportable(ws.db, { datasetId: arg.datasetId, sources });
  if (counts.captions === 0) {
    throw new AppError(
      'bad_request',
      `Nothing to export: no accepted ${sources.join('/')} captions${arg.datasetId === undefined ? '' : ` in dataset ${arg.datasetId}`}. Accept captions in Review first.`,
    );
  }
  const need =
    annotationEstimate(counts.captions, counts.images) + (arg.images === 'copy' ? counts.bytes : 0);
  checkTarget(outDir, arg.overwrite, need);
  // Like mkdir -p: the folders it goes in are made now, so that a mistyped place shows at once.
  try {
    mkdirSync(dirname(outDir), { recursive: true });
  } catch (err) {
    throw new AppError(
      'bad_request',
      `Could not make the folder ${dirname(outDir)} (${errCode(err)}). Choose another place for the export.`,
    );
  }
  const params: ExportParams = {
    outDir,
    format: arg.format,
    datasetId: arg.datasetId,
    images: arg.images,
    sources,
    splitRatios: arg.splitRatios,
    seed: arg.seed,
    overwrite: arg.overwrite,
  };
  const job = ws.jobs.enqueue('export', params);
  return { job, outDir, captions: counts.captions, images: counts.images };
}

/** What the export dialog shows before Export: captions per source, what the chosen ones add up to, where it goes. */
export function previewExport(
  ws: Workspace,
  arg: ParsedArg<'export:preview'>,
): InvokeResults['export:preview'] {
  const sources = arg.sources ?? [...CAPTION_SOURCES];
  const counts = countExportable(ws.db, { datasetId: arg.datasetId, sources });
  let outDir: string | null = null;
  let outDirProblem: string | null = null;
  if (arg.outDir !== undefined && arg.outDir.trim() !== '') {
    try {
      outDir = exportTarget(ws.file, arg.outDir.trim());
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      outDirProblem = err.message;
    }
  }
  return {
    bySource: countExportableBySource(ws.db, arg.datasetId),
    captions: counts.captions,
    images: counts.images,
    workspaceFolder: resolve(dirname(ws.file)),
    outDir,
    outDirProblem,
  };
}
