import { getLibraryStats } from '../../db/repos/images';
import { listDatasets } from '../../db/repos/datasets';
import type { Command } from '../command';
import { withWorkspace } from '../workspace';

export const statsCommand: Command = {
  name: 'stats',
  summary: 'counts of datasets, images, identities and captions',
  usage: 'ctgi stats [--workspace FILE] [--json]',
  options: {},
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const stats = getLibraryStats(ws.db);
      const datasets = listDatasets(ws.db);
      if (values.json) {
        io.out(JSON.stringify({ workspace: ws.file, ...stats, datasets }, null, 2));
        return 0;
      }
      io.out(`Workspace ${ws.file}`);
      io.out(`${stats.datasets} datasets, ${stats.images} images, ${stats.identities} identities`);
      const c = stats.captions;
      io.out(
        `captions: ${c.pending} pending, ${c.accepted} accepted, ${c.rejected} rejected, ${c.flagged} flagged`,
      );
      const s = stats.imagesBySplit;
      io.out(`splits: train ${s.train}, val ${s.val}, test ${s.test}, none ${s.none}`);
      for (const d of datasets) {
        io.out(
          `  #${d.id} ${d.name} (${d.format}, ${d.status}): ${d.imageCount} images, ${d.identityCount} ids, ${d.captionCount} captions`,
        );
      }
      return 0;
    }),
};
