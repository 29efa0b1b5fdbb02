import { asDatasetId, asModelId } from '#shared/ids';
import { AppError } from '../../errors';
import { resolveModelRow } from '../../ml/models';
import { searchText } from '../../search/text-search';
import type { SearchMode } from '../../search';
import { intOption, oneOf, requiredOption, stringOption, type Command, type OptionValues } from '../command';
import { withWorkspace } from '../workspace';

const MODES: readonly SearchMode[] = ['auto', 'exact', 'fast', 'sqlite'];

export function datasetOption(values: OptionValues): ReturnType<typeof asDatasetId> | undefined {
  const ds = stringOption(values, 'dataset');
  if (ds === undefined) return undefined;
  if (!/^\d+$/.test(ds))
    throw new AppError('bad_request', `--dataset takes a dataset id (see \`ctgi stats\`); got "${ds}".`);
  return asDatasetId(Number(ds));
}

const when = (ms: number | null, videoSeconds: number): string =>
  ms === null ? `${videoSeconds.toFixed(2)} s` : new Date(ms).toISOString().replace('T', ' ').slice(0, 22);

function timeOption(values: OptionValues, name: 'from' | 'to'): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (!Number.isFinite(t))
    throw new AppError(
      'bad_request',
      `--${name} takes a date and time like 2026-12-04T08:15:00Z; got "${text}".`,
    );
  return t;
}

function footageFilter(values: OptionValues): { cameras?: string[]; fromMs?: number; toMs?: number } {
  const cams = stringOption(values, 'camera');
  const fromMs = timeOption(values, 'from');
  const toMs = timeOption(values, 'to');
  return {
    ...(cams
      ? {
          cameras: cams
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean),
        }
      : {}),
    ...(fromMs !== undefined ? { fromMs } : {}),
    ...(toMs !== undefined ? { toMs } : {}),
  };
}

export const searchCommand: Command = {
  name: 'search',
  summary: 'rank embedded images for a text description with a CLIP model',
  usage:
    'ctgi search --model ID|NAME|FOLDER-NAME [--dataset ID] [-k N] [--mode auto|exact|fast|sqlite] [--json] "TEXT"\n' +
    '            [--camera NAME[,NAME…]] [--from TIME] [--to TIME] [--by-track]\n\n' +
    'Prints rank, cosine score, person id and path of the top N (default 10) images. The images must be\n' +
    'embedded with the same model first (`ctgi embed`). --json prints the whole answer, token count included.\n' +
    'Footage crops (ctgi footage) also show camera and time; --camera, --from and --to (ISO 8601, e.g.\n' +
    '2026-12-04T08:15:00Z) keep only crops of those cameras and that time; --by-track prints one line per track.',
  options: {
    model: { type: 'string', short: 'm' },
    dataset: { type: 'string' },
    k: { type: 'string', short: 'k' },
    mode: { type: 'string' },
    camera: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'by-track': { type: 'boolean' },
  },
  run: (values, positionals, io) =>
    withWorkspace(values, async (ws) => {
      const query = positionals.join(' ').trim();
      if (query === '')
        throw new AppError(
          'bad_request',
          'Give the description to search for, e.g. ctgi search --model M "a man in a red t-shirt".',
        );
      const model = resolveModelRow(ws.db, requiredOption(values, 'model'));
      const mode = oneOf('mode', stringOption(values, 'mode'), MODES) ?? 'auto';
      const k = intOption(values, 'k', 10);
      if (k < 1 || k > 1000) throw new AppError('bad_request', `-k must be between 1 and 1000; got ${k}.`);
      const r = await searchText(ws, {
        modelId: asModelId(model.id),
        query,
        k,
        datasetId: datasetOption(values),
        mode,
        ...footageFilter(values),
      });
      if (values.json) {
        io.out(JSON.stringify(r, null, 2));
        return 0;
      }
      if (r.truncated) {
        io.err(
          `warning: the query is ${r.count} tokens; model "${model.name}" reads ${r.contextLength}, the rest is cut off. A PES-stretched model (ctgi pes) reads 248.`,
        );
      }
      const filter = footageFilter(values);
      if (r.results.length === 0 && Object.keys(filter).length > 0) {
        io.out('No embedded footage crops of those cameras and times. Widen --camera/--from/--to.');
        return 1;
      }
      if (r.results.length === 0) {
        io.out(
          `No images have a vector from model "${model.name}" here yet (${r.unembedded} to embed). Run: ctgi embed --model ${model.name}`,
        );
        return 1;
      }
      if (values['by-track'] === true) {
        for (const t of r.tracks)
          io.out(
            `${String(t.rank).padStart(4)}  ${t.score.toFixed(4)}  ${t.camera}  ${when(t.firstMs, t.firstTime)} – ${when(t.lastMs, t.lastTime)}  track ${t.trackId} (${t.ranks.length} crop${t.ranks.length === 1 ? '' : 's'} in the top ${k})`,
          );
      } else
        for (const h of r.results) {
          const f = h.footage;
          io.out(
            `${String(h.rank).padStart(4)}  ${h.score.toFixed(4)}  ${(h.image.personId ?? '-').padEnd(8)} ${f ? `${f.camera} ${when(f.timeMs, f.frameTime)} track ${f.trackId}` : h.image.relPath}  (image ${h.image.id})`,
          );
        }
      const note = r.unembedded > 0 ? `; ${r.unembedded} images not embedded yet` : '';
      io.err(`${r.count}/${r.contextLength} tokens, ${r.ms.toFixed(0)} ms on ${r.provider}${note}`);
      return 0;
    }),
};
