import { AppError } from '../../errors';
import { writeSync } from 'node:fs';
import { startOracleReplicas } from '../../synth/oracle/replicas';
import { ORACLE_MODELS, startOracle } from '../../synth/oracle/server';
import { intOption, stringOption, type Command, type OptionValues } from '../command';

function rateOption(values: OptionValues, name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0 && n <= 1))
    throw new AppError('bad_request', `--${name} must be a share from 0 to 1 (e.g. 0.1), got "${v}".`);
  return n;
}

function numberOption(values: OptionValues, name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n))
    throw new AppError('bad_request', `--${name} must be a number ≥ 0, got "${v}".`);
  return n;
}

export const oracleCommand: Command = {
  name: 'oracle',
  summary:
    'serve the oracle MLLM: an OpenAI-compatible model of the synthetic world, for tests and benchmarks',
  usage:
    'ctgi oracle [--world DIR] [--port P] [--api-key KEY] [--seed S] [noise and fault options] [--json]\n\n' +
    `Serves ${ORACLE_MODELS.vision} (images and text) and ${ORACLE_MODELS.text} (text only) at http://127.0.0.1:P/v1.\n` +
    'It reads clothing colours, cap and bag from the pixels; with --world DIR (made by `ctgi synth`) it also\n' +
    'knows sex, age, hair length, sleeves, garment types and glasses of the person whose colours it sees.\n\n' +
    '  --world DIR               a synthetic world folder (its attributes.json)\n' +
    '  --port P                  port on 127.0.0.1 (default: any free port)\n' +
    '  --api-key KEY             require "Authorization: Bearer KEY"\n' +
    '  --seed S                  seed of all noise and faults (default 1)\n' +
    '  --wrong-rate R            share of wrong attribute and yes/no answers (0–1)\n' +
    '  --hallucination-rate R    share of captions with a detail the image does not show\n' +
    '  --latency-ms MS           delay of every answer; --jitter-ms MS adds up to MS more at random\n' +
    '  --rate-429 R              share of attempts answered 429 (with --retry-after S seconds, default 1)\n' +
    '  --rate-500 R              share answered 500\n' +
    '  --timeout-rate R          share never answered (the client must time out)\n' +
    '  --malformed-rate R        share answered with truncated JSON\n' +
    '  --empty-rate R            share answered with no choices\n' +
    '  --batch-delay-ms MS       Batch API (/v1/files, /v1/batches): a batch completes MS after it is created\n' +
    '  --batch-error-rate R      share of batch lines answered with a 500 in the error file\n' +
    '  --batch-expire-first N    the first N batches expire half-done (the rest: batch_expired)\n' +
    '  --die-after N             die (drop every connection, exit) when chat attempt N+1 arrives\n' +
    '  --replicas N              start N oracle processes (replicas of one model, same seed) instead of one;\n' +
    '                            prints their URLs; the other options go to every replica\n' +
    '  --replica "K=FLAGS"       extra flags for replica K (1-based), e.g. --replica "2=--die-after 300";\n' +
    '                            repeatable\n' +
    '  --json                    print one line {"url","port","models"} once listening\n' +
    '                            (with --replicas: {"urls","pids","models"})\n\n' +
    'Identical requests get identical answers; faults are drawn per attempt, so a retry can succeed.\n' +
    'GET /v1/oracle/stats counts requests by kind. Ctrl+C (or SIGTERM) stops it.',
  options: {
    world: { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'api-key': { type: 'string' },
    seed: { type: 'string' },
    'wrong-rate': { type: 'string' },
    'hallucination-rate': { type: 'string' },
    'latency-ms': { type: 'string' },
    'jitter-ms': { type: 'string' },
    'rate-429': { type: 'string' },
    'retry-after': { type: 'string' },
    'rate-500': { type: 'string' },
    'timeout-rate': { type: 'string' },
    'malformed-rate': { type: 'string' },
    'empty-rate': { type: 'string' },
    'die-after': { type: 'string' },
    'batch-delay-ms': { type: 'string' },
    'batch-error-rate': { type: 'string' },
    'batch-expire-first': { type: 'string' },
    replicas: { type: 'string' },
    replica: { type: 'string', multiple: true },
  },
  async run(values, _positionals, io) {
    const replicaCount = stringOption(values, 'replicas');
    if (replicaCount !== undefined) return runReplicas(values, intOption(values, 'replicas', 1), io);
    const dieAfter =
      stringOption(values, 'die-after') === undefined ? null : intOption(values, 'die-after', 0);
    if (dieAfter !== null && dieAfter < 0)
      throw new AppError('bad_request', `--die-after must be a whole number ≥ 0, got ${dieAfter}.`);
    const port = intOption(values, 'port', 0);
    if (port < 0 || port > 65535)
      throw new AppError('bad_request', `--port must be between 0 and 65535, got ${port}.`);
    const seedText = stringOption(values, 'seed') ?? '1';
    const json = values.json === true;
    const world = stringOption(values, 'world') ?? null;
    const oracle = await startOracle({
      world,
      port,
      host: stringOption(values, 'host') ?? '127.0.0.1',
      apiKey: stringOption(values, 'api-key') ?? null,
      seed: /^\d+$/.test(seedText) ? Number(seedText) : seedText,
      wrongRate: rateOption(values, 'wrong-rate'),
      hallucinationRate: rateOption(values, 'hallucination-rate'),
      latencyMs: numberOption(values, 'latency-ms'),
      latencyJitterMs: numberOption(values, 'jitter-ms'),
      faults: {
        rate429: rateOption(values, 'rate-429'),
        retryAfterS: numberOption(values, 'retry-after'),
        rate500: rateOption(values, 'rate-500'),
        timeoutRate: rateOption(values, 'timeout-rate'),
        malformedRate: rateOption(values, 'malformed-rate'),
        emptyRate: rateOption(values, 'empty-rate'),
      },
      batch: {
        completionDelayMs: numberOption(values, 'batch-delay-ms'),
        errorRate: rateOption(values, 'batch-error-rate'),
        expireFirst: intOption(values, 'batch-expire-first', 0),
      },
      dieAfter,
      onDie: (at) => {
        // Said on stdout first (synchronously: nothing after this line runs), then gone like a crashed box.
        writeSync(1, `${JSON.stringify({ died: at })}\n`);
        process.kill(process.pid, 'SIGKILL');
      },
    });
    const models = Object.values(ORACLE_MODELS);
    if (json) io.out(JSON.stringify({ url: oracle.url, port: oracle.port, models }));
    else {
      io.out(`Oracle MLLM listening on ${oracle.url} (models: ${models.join(', ')})`);
      io.out(
        oracle.world
          ? `World: ${oracle.world.dir} (${oracle.world.identities} identities)`
          : 'No --world: only what the pixels show (colours, cap, bag) is known.',
      );
      io.out('Press Ctrl+C to stop.');
    }
    if (!oracle.world)
      io.err(
        'Tip: pass --world DIR (a folder made by `ctgi synth`) so the oracle also knows sex, age, hair length, garment types and glasses.',
      );
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await oracle.close();
    const s = oracle.stats();
    io.err(`Oracle stopped after ${s.answered} answers to ${s.requests} requests.`);
    return 0;
  },
};

/** Flags every replica gets: all given to this command except --replicas, --replica, --port and --json. */
function forwardedFlags(values: OptionValues): string[] {
  const skip = new Set(['replicas', 'replica', 'port', 'json', 'workspace', 'help']);
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (skip.has(k) || v === undefined) continue;
    if (typeof v === 'boolean') {
      if (v) out.push(`--${k}`);
    } else if (typeof v === 'string') out.push(`--${k}`, v);
  }
  return out;
}

async function runReplicas(
  values: OptionValues,
  count: number,
  io: { out(l: string): void; err(l: string): void },
): Promise<number> {
  const perReplica: Record<number, string[]> = {};
  const given = values.replica;
  for (const spec of Array.isArray(given) ? given : []) {
    const m = /^(\d+)=(.*)$/s.exec(String(spec));
    const k = m ? Number(m[1]) : NaN;
    if (!m || !(k >= 1 && k <= count))
      throw new AppError(
        'bad_request',
        `--replica must look like "K=FLAGS" with K from 1 to ${count}, e.g. "2=--die-after 300"; got "${String(spec)}".`,
      );
    perReplica[k - 1] = [...(perReplica[k - 1] ?? []), ...m[2]!.trim().split(/\s+/).filter(Boolean)];
  }
  const cli = process.argv[1];
  if (!cli) throw new AppError('unavailable', 'Cannot tell which ctgi to start the replicas with.');
  const pool = await startOracleReplicas(cli, count, { args: forwardedFlags(values), perReplica });
  const models = Object.values(ORACLE_MODELS);
  if (values.json === true)
    io.out(JSON.stringify({ urls: pool.urls, pids: pool.replicas.map((r) => r.pid), models }));
  else {
    io.out(`${count} oracle replicas (models: ${models.join(', ')}):`);
    for (const [i, r] of pool.replicas.entries()) io.out(`  ${i + 1}. ${r.url} (pid ${r.pid})`);
    io.out(
      `Save them as one endpoint: ctgi endpoints --save NAME --base-url ${pool.urls[0]} --replica ${pool.urls.slice(1).join(' --replica ')} --model ${ORACLE_MODELS.vision}`,
    );
    io.out('Press Ctrl+C to stop.');
  }
  for (const [i, r] of pool.replicas.entries()) {
    void r.exited.then(({ death, code, signal }) => {
      if (death)
        io.err(
          `Replica ${i + 1} (${r.url}) died on purpose after ${death.answered} answers, with ${death.inFlight} requests in flight.`,
        );
      else if (code !== 0 && signal !== 'SIGTERM')
        io.err(`Replica ${i + 1} (${r.url}) exited (${code ?? signal}).`);
    });
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await pool.close();
  return 0;
}
