// Builds library workspaces directly through the repo functions, for tests that need a known library
// (or a very large one) without running an import. The images are real files on disk, drawn here, so
// thumbnails and the drawer's full image are served exactly as for imported datasets.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { SPLITS, type CaptionStatus, type Split } from '#shared/library/types';
import { updateDatasetStatus, insertDataset } from '../../../src/main/db/repos/datasets';
import { insertCaption, insertImage, upsertIdentity } from '../../../src/main/db/repos/images';
import { openDatabase } from '../../../src/main/db/open';

const COLOURS = [
  '#c0392b',
  '#2471a3',
  '#229954',
  '#d4ac0d',
  '#7d3c98',
  '#ca6f1e',
  '#17202a',
  '#f0f3f4',
  '#a04000',
  '#1abc9c',
];
const COLOUR_NAMES = [
  'red',
  'blue',
  'green',
  'yellow',
  'purple',
  'orange',
  'black',
  'white',
  'brown',
  'teal',
];

/** A 64×128 person-shaped figure: head, top and trousers in colours picked by `n`. */
async function drawFigure(n: number): Promise<Buffer> {
  const top = COLOURS[n % COLOURS.length]!;
  const bottom = COLOURS[(n * 3 + 1) % COLOURS.length]!;
  const bg = ['#dfe6e9', '#b2bec3', '#ffeaa7', '#d5f5e3'][n % 4]!;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="128">
    <rect width="64" height="128" fill="${bg}"/>
    <circle cx="32" cy="18" r="10" fill="#e0ac69"/>
    <rect x="18" y="30" width="28" height="42" rx="5" fill="${top}"/>
    <rect x="20" y="72" width="11" height="46" fill="${bottom}"/>
    <rect x="33" y="72" width="11" height="46" fill="${bottom}"/>
    <rect x="18" y="118" width="13" height="6" fill="#222"/><rect x="33" y="118" width="13" height="6" fill="#222"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export interface SeedOptions {
  /** Rows to insert. */
  images: number;
  /** Distinct image files behind them (rows reuse them through symlinked folders). */
  files?: number;
  datasetName?: string;
  /** Images per identity. */
  perPerson?: number;
}

export interface SeededImage {
  relPath: string;
  personId: string;
  split: Split | null;
  captions: { text: string; status: CaptionStatus }[];
}

/**
 * Deterministic rows: image i belongs to person `Math.floor(i / perPerson)`, splits cycle
 * train/val/test/none by person, and every third image has no caption (the rest have one or two, with
 * statuses cycling). Returns what it wrote so tests can state expectations from the same rule.
 */
export function seededImage(i: number, perPerson: number, files: number): SeededImage {
  const person = Math.floor(i / perPerson);
  const split = ([...SPLITS, null] as const)[person % 4]!;
  const statuses: CaptionStatus[] = ['accepted', 'pending', 'rejected', 'flagged'];
  const captions: SeededImage['captions'] =
    i % 3 === 0
      ? []
      : [
          {
            text: `A person (id ${person}) in a ${COLOUR_NAMES[(i % files) % COLOURS.length]} top walking past the camera.`,
            status: statuses[i % 4]!,
          },
          ...(i % 3 === 2
            ? [{ text: `Seen from view ${i % perPerson}; carries nothing.`, status: 'pending' as const }]
            : []),
        ];
  return {
    relPath: `c${String(Math.floor(i / files)).padStart(5, '0')}/f${String(i % files).padStart(3, '0')}.png`,
    personId: String(person).padStart(4, '0'),
    split,
    captions,
  };
}

export async function seedWorkspace(
  workspace: string,
  root: string,
  opts: SeedOptions,
): Promise<{ datasetId: number }> {
  const files = opts.files ?? 40;
  const perPerson = opts.perPerson ?? 4;
  // The pool lives inside the dataset folder: media are served only from files whose real path stays
  // inside their dataset (a link out of it is refused), and the folders below link to it.
  const dataRoot = join(root, 'data');
  const pool = join(dataRoot, 'pool');
  mkdirSync(pool, { recursive: true });
  const shas: string[] = [];
  const sizes: number[] = [];
  for (let f = 0; f < files; f++) {
    const png = await drawFigure(f);
    writeFileSync(join(pool, `f${String(f).padStart(3, '0')}.png`), png);
    shas.push(
      createHash('sha256')
        .update(readFileSync(join(pool, `f${String(f).padStart(3, '0')}.png`)))
        .digest('hex'),
    );
    sizes.push(png.length);
  }
  // Each row needs its own (dataset, rel_path); folders that link to one pool give that cheaply.
  for (let c = 0; c * files < opts.images; c++)
    symlinkSync(pool, join(dataRoot, `c${String(c).padStart(5, '0')}`), 'dir');

  const { db } = openDatabase(workspace);
  try {
    const datasetId = insertDataset(db, {
      name: opts.datasetName ?? 'Seeded',
      format: 'folder',
      root: dataRoot,
      annotationFile: null,
    });
    const identities = new Map<string, ReturnType<typeof upsertIdentity>>();
    db.transaction(() => {
      for (let i = 0; i < opts.images; i++) {
        const s = seededImage(i, perPerson, files);
        let identityId = identities.get(s.personId);
        if (identityId === undefined) {
          identityId = upsertIdentity(db, datasetId, s.personId);
          identities.set(s.personId, identityId);
        }
        const imageId = insertImage(db, {
          datasetId,
          relPath: s.relPath,
          sha256: shas[i % files]!,
          width: 64,
          height: 128,
          bytes: sizes[i % files]!,
          format: 'png',
          identityId,
          camera: null,
          split: s.split,
        });
        for (const c of s.captions)
          insertCaption(db, { imageId, source: 'human', text: c.text, status: c.status });
      }
    })();
    updateDatasetStatus(db, datasetId, 'ready');
    return { datasetId };
  } finally {
    db.close();
  }
}

/**
 * A large library for the timing tests (100k images): `images` rows over 50 image files, five views a
 * person, in `workspace`. Returns how long seeding took, which those tests report beside their figures.
 */
export async function seedLargeWorkspace(
  workspace: string,
  root: string,
  images: number,
  datasetName: string,
): Promise<{ seedMs: number }> {
  const t0 = Date.now();
  await seedWorkspace(workspace, root, { images, files: 50, perPerson: 5, datasetName });
  return { seedMs: Date.now() - t0 };
}
