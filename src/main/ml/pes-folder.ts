import { cpSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../errors';
import { MANIFEST_FILE, TEXT_FILE, loadModelFolder, manifestSchema, type ModelFolder } from './models';
import { PES_TARGET_ROWS, pesModel, type PesReport } from './pes';

export interface StretchedFolder {
  folder: ModelFolder;
  report: PesReport;
}

/**
 * Makes a complete 248-token model folder from a 77-token one: the image tower and tokenizer copied
 * unchanged, the text tower stretched by PES, the manifest's context set to 248 and its name marked.
 * Written beside the target and renamed into place, then validated like any folder the user brings,
 * so what it returns can be registered as it is.
 */
export async function stretchModelFolder(
  inDir: string,
  outDir: string,
  force = false,
): Promise<StretchedFolder> {
  const source = resolve(inDir);
  const target = resolve(outDir);
  if (!existsSync(source) || !statSync(source).isDirectory()) {
    throw new AppError('not_found', `${inDir} is not a model folder.`);
  }
  if (source === target)
    throw new AppError('bad_request', 'Write the stretched model to a new folder (--out).');
  if (existsSync(target) && !force) {
    throw new AppError('conflict', `${outDir} exists already; pass --force to replace it.`);
  }
  const manifestPath = join(source, MANIFEST_FILE);
  const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  if (!parsed.success)
    throw new AppError('bad_request', `${manifestPath} is not a valid manifest: ${parsed.error.message}`);
  if (parsed.data.contextLength !== 77) {
    throw new AppError(
      'bad_request',
      `PES stretches a 77-token text encoder; this model's manifest says ${parsed.data.contextLength}.`,
    );
  }
  const { bytes, report } = pesModel(readFileSync(join(source, TEXT_FILE)));

  const staging = join(dirname(target), `.${basename(target)}.pes-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    cpSync(source, staging, { recursive: true });
    writeFileSync(join(staging, TEXT_FILE), bytes);
    const manifest = {
      ...parsed.data,
      name: `${parsed.data.name} (PES ${PES_TARGET_ROWS})`,
      contextLength: PES_TARGET_ROWS,
    };
    writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { folder: await loadModelFolder(target), report };
}
