import { formatUsd, usage } from '../../llm/cost';
import { oneOf, stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';

export const usageCommand: Command = {
  name: 'usage',
  summary: 'model tokens paid for and what they cost, per job, endpoint or day (from the calls log)',
  usage:
    'ctgi usage [--by job|endpoint|day] [--job ID] [--days N] [--json]\n\n' +
    'Paid = answers and refusals the servers returned; cache hits and failed attempts cost nothing.\n' +
    "Cost uses each endpoint's prices (ctgi endpoints --save NAME --price-input USD --price-output USD,\n" +
    "per million tokens); Batch API calls count at the endpoint's batch discount.",
  options: {
    by: { type: 'string' },
    job: { type: 'string' },
    days: { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const by = oneOf('by', stringOption(values, 'by'), ['job', 'endpoint', 'day'] as const) ?? 'endpoint';
      const job = stringOption(values, 'job');
      const days = stringOption(values, 'days');
      const lines = usage(ws.db, by, {
        jobId: job === undefined ? undefined : Number(job),
        sinceMs: days === undefined ? undefined : Date.now() - Number(days) * 86_400_000,
      });
      if (values.json) {
        io.out(JSON.stringify(lines, null, 2));
        return 0;
      }
      if (lines.length === 0) {
        io.out('No paid model calls yet.');
        return 0;
      }
      const head = by === 'job' ? 'job' : by === 'endpoint' ? 'endpoint' : 'day (UTC)';
      io.out(
        `${head.padEnd(16)} ${'calls'.padStart(8)} ${'batch'.padStart(7)} ${'prompt tok'.padStart(12)} ${'compl. tok'.padStart(12)}  cost`,
      );
      for (const l of lines)
        io.out(
          `${(l.key || '(none)').padEnd(16)} ${String(l.calls).padStart(8)} ${String(l.batchCalls).padStart(7)} ` +
            `${String(l.promptTokens).padStart(12)} ${String(l.completionTokens).padStart(12)}  ${formatUsd(l.costUsd)}`,
        );
      return 0;
    }),
};
