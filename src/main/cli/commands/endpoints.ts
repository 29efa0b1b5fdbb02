import { invokeSchemas } from '#shared/contract';
import type { EndpointProbe, KeyRef, LlmEndpoint, ReplicaFigures } from '#shared/llm/types';
import { TEMPERATURE_PARAMS, TOKEN_LIMIT_PARAMS } from '#shared/llm/types';
import { getEndpointByName, listEndpoints } from '../../db/repos/llm';
import { badRequest } from '../../errors';
import { endpointReplicas, probeEndpointByName, removeEndpoint, saveEndpoint } from '../../llm/endpoints';
import { defaultKeyStoreFile, resetKeyStoreFile } from '../../llm/encrypted-key-store';
import { oneOf, stringOption, type Command, type OptionValues } from '../command';
import { withWorkspace } from '../workspace';

function describeKey(k: KeyRef): string {
  switch (k.kind) {
    case 'env':
      return `env ${k.name}`;
    case 'file':
      return `file ${k.path}`;
    case 'safe-storage':
      return `app key "${k.id}"`;
    case 'none':
      return 'no key';
  }
}

export function formatEndpoint(e: LlmEndpoint): string {
  const rate = e.requestsPerMinute ? `${e.requestsPerMinute}/min` : 'no rpm limit';
  return (
    `${e.name.padEnd(16)} ${e.role.padEnd(13)} ${e.model}  ${e.baseUrl}  ×${e.concurrency}, ${rate}, ` +
    `T=${e.temperatureParam === 'omit' ? 'omitted' : e.temperature}, ${e.maxTokens} tok` +
    `${e.tokenLimitParam === 'auto' ? '' : ` as ${e.tokenLimitParam}`}${e.temperatureParam === 'send' ? ' (T always sent)' : ''}, ` +
    `${e.timeoutMs / 1000}s, ${describeKey(e.keyRef)}` +
    (e.replicas.length > 0 ? `, ${e.replicas.length + 1} servers` : '') +
    (e.priceInput !== null || e.priceOutput !== null
      ? `, $${e.priceInput ?? '?'}/$${e.priceOutput ?? '?'} per M tokens (batch ×${e.batchDiscount})`
      : '')
  );
}

export function formatReplica(f: ReplicaFigures): string {
  const health = f.healthy === null ? '' : f.healthy ? ' healthy,' : ' OUT (being probed),';
  return (
    `    ${f.baseUrl}  ×${f.concurrency},${health} ${f.calls} calls, ${f.errors} errors, ` +
    `${f.meanLatencyMs === null ? '-' : `${f.meanLatencyMs} ms`} mean, ${f.promptTokens} + ${f.completionTokens} tokens`
  );
}

export function formatProbe(p: EndpointProbe): string[] {
  const mark = { ok: 'ok  ', warning: 'warn', failed: 'FAIL', skipped: '-   ' } as const;
  const lines = p.checks.map(
    (c) =>
      `  ${mark[c.status]} ${c.name.padEnd(9)} ${c.detail}${c.latencyMs !== null ? ` (${c.latencyMs} ms)` : ''}`,
  );
  return [`${p.endpoint} (${p.model}): ${p.ok ? 'usable' : 'not usable'}`, ...lines, p.advice];
}

const num = (values: OptionValues, name: string): number | undefined => {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw badRequest(`--${name} must be a number, got "${v}".`);
  return n;
};

/** The flags of --save over the saved profile of that name (so `--save x --rpm 60` changes only the rpm). */
function saveArg(name: string, values: OptionValues, existing: LlmEndpoint | undefined): unknown {
  const keyFlags = [
    values['key-env'] !== undefined,
    values['key-file'] !== undefined,
    values['no-key'] === true,
  ].filter(Boolean);
  if (keyFlags.length > 1) throw badRequest('Give one of --key-env, --key-file, --no-key.');
  let keyRef: KeyRef | undefined = existing?.keyRef;
  const keyEnv = stringOption(values, 'key-env');
  const keyFile = stringOption(values, 'key-file');
  if (keyEnv !== undefined) keyRef = { kind: 'env', name: keyEnv };
  else if (keyFile !== undefined) keyRef = { kind: 'file', path: keyFile };
  else if (values['no-key'] === true) keyRef = { kind: 'none' };
  const timeout = num(values, 'timeout');
  const rpm = stringOption(values, 'rpm');
  return {
    name,
    baseUrl: stringOption(values, 'base-url') ?? existing?.baseUrl,
    model: stringOption(values, 'model') ?? existing?.model,
    role: stringOption(values, 'role') ?? existing?.role,
    temperature: num(values, 'temperature') ?? existing?.temperature,
    maxTokens: num(values, 'max-tokens') ?? existing?.maxTokens,
    concurrency: num(values, 'concurrency') ?? existing?.concurrency,
    requestsPerMinute:
      rpm === 'none' || rpm === '0'
        ? null
        : rpm !== undefined
          ? num(values, 'rpm')
          : existing?.requestsPerMinute,
    timeoutMs: timeout !== undefined ? Math.round(timeout * 1000) : existing?.timeoutMs,
    keyRef,
    tokenLimitParam:
      oneOf('token-param', stringOption(values, 'token-param'), TOKEN_LIMIT_PARAMS) ??
      existing?.tokenLimitParam,
    temperatureParam:
      oneOf('temperature-param', stringOption(values, 'temperature-param'), TEMPERATURE_PARAMS) ??
      existing?.temperatureParam,
    replicas: replicasArg(values, existing),
    priceInput: priceArg(values, 'price-input', existing?.priceInput),
    priceOutput: priceArg(values, 'price-output', existing?.priceOutput),
    batchDiscount: num(values, 'batch-discount') ?? existing?.batchDiscount,
  };
}

/** --replica URL (repeatable) replaces the list; --no-replicas clears it; otherwise the saved list stays. */
function replicasArg(values: OptionValues, existing: LlmEndpoint | undefined): unknown {
  const given = values.replica;
  const urls = (Array.isArray(given) ? given : []).map(String);
  const conc = num(values, 'replica-concurrency');
  if (values['no-replicas'] === true) {
    if (urls.length > 0) throw badRequest('Give --replica or --no-replicas, not both.');
    return [];
  }
  if (urls.length === 0) {
    if (conc !== undefined && existing)
      return existing.replicas.map((r) => ({ baseUrl: r.baseUrl, concurrency: conc }));
    return existing?.replicas;
  }
  const fallback = conc ?? num(values, 'concurrency') ?? existing?.concurrency ?? 4;
  return urls.map((u) => ({ baseUrl: u, concurrency: fallback }));
}

function priceArg(values: OptionValues, name: string, existing: number | null | undefined): unknown {
  const v = stringOption(values, name);
  if (v === 'none') return null;
  return v === undefined ? existing : num(values, name);
}

export const endpointsCommand: Command = {
  name: 'endpoints',
  summary: 'MLLM endpoint profiles: list, save, delete, probe',
  usage: [
    'ctgi endpoints [--json]                         list saved endpoints (keys are never shown)',
    'ctgi endpoints --save NAME --base-url URL --model M [--role vqa|reconstructor|both]',
    '     [--temperature 0.01] [--max-tokens 512] [--concurrency 4] [--rpm N|none] [--timeout SECONDS]',
    '     [--key-env VAR | --key-file PATH (chmod 600) | --no-key]',
    '     [--token-param auto|max_tokens|max_completion_tokens] [--temperature-param auto|send|omit]',
    '     (auto: max_completion_tokens and no temperature for o1/o3/o4/gpt-5 models, else max_tokens + temperature)',
    '     (saving an existing NAME changes only the flags given)',
    '     (here any variable or file may hold the key; from the browser or the app, only CTGI_KEY_* variables,',
    '      files in the key folder ($CTGI_KEY_DIR, else ~/.config/ctgi/keys) and the app keychain)',
    '     [--replica URL ... [--replica-concurrency N] | --no-replicas]',
    '     (more servers of the same model, e.g. one vLLM per GPU box; calls go to the least busy healthy one)',
    '     [--price-input USD] [--price-output USD] (per million tokens, or none) [--batch-discount 0.5]',
    'ctgi endpoints --delete NAME',
    'ctgi endpoints --probe NAME [--json]            check key, server, model, text and image answers',
    'ctgi endpoints --reset-key-store [--key-store FILE]',
    '     move a damaged desktop-app keychain file aside (kept as FILE.damaged-<time>) so keys can be entered again;',
    `     FILE defaults to the desktop app's: ${defaultKeyStoreFile()}`,
  ].join('\n'),
  options: {
    save: { type: 'string' },
    delete: { type: 'string' },
    probe: { type: 'string' },
    'base-url': { type: 'string' },
    model: { type: 'string' },
    role: { type: 'string' },
    temperature: { type: 'string' },
    'max-tokens': { type: 'string' },
    concurrency: { type: 'string' },
    rpm: { type: 'string' },
    timeout: { type: 'string' },
    'key-env': { type: 'string' },
    'key-file': { type: 'string' },
    'no-key': { type: 'boolean' },
    'token-param': { type: 'string' },
    'temperature-param': { type: 'string' },
    replica: { type: 'string', multiple: true },
    'replica-concurrency': { type: 'string' },
    'no-replicas': { type: 'boolean' },
    'price-input': { type: 'string' },
    'price-output': { type: 'string' },
    'batch-discount': { type: 'string' },
    'reset-key-store': { type: 'boolean' },
    'key-store': { type: 'string' },
  },
  run: async (values, _positionals, io) => {
    // The keychain file belongs to the desktop app, not to a workspace: no workspace is opened for it.
    if (values['reset-key-store'] === true) {
      const file = stringOption(values, 'key-store') ?? defaultKeyStoreFile();
      const keptAs = resetKeyStoreFile(file);
      if (values.json) io.out(JSON.stringify({ file, keptAs }));
      else
        io.out(
          keptAs === null
            ? `No key store at ${file}; nothing to reset.`
            : `Key store reset: the old file is kept as ${keptAs}. Enter the API keys again (Settings → Endpoints).`,
        );
      return 0;
    }
    return withWorkspace(values, async (ws) => {
      const keyStore = ws.services.keys;
      const save = stringOption(values, 'save');
      const del = stringOption(values, 'delete');
      const probe = stringOption(values, 'probe');
      if ([save, del, probe].filter((v) => v !== undefined).length > 1)
        throw badRequest('Give one of --save, --delete, --probe.');
      if (save !== undefined) {
        const parsed = invokeSchemas['endpoints:save'].safeParse(
          saveArg(save, values, getEndpointByName(ws.db, save)),
        );
        if (!parsed.success) {
          const detail = parsed.error.issues
            .map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`)
            .join('; ');
          throw badRequest(`Cannot save endpoint "${save}": ${detail}`);
        }
        const e = await saveEndpoint(ws.db, parsed.data, keyStore, 'local');
        io.out(values.json ? JSON.stringify(e, null, 2) : `Saved ${formatEndpoint(e)}`);
        return 0;
      }
      if (del !== undefined) {
        const r = await removeEndpoint(ws.db, del, keyStore);
        io.out(
          values.json
            ? JSON.stringify(r)
            : r.deleted
              ? `Deleted endpoint ${del}.`
              : `No endpoint named ${del}.`,
        );
        return r.deleted ? 0 : 1;
      }
      if (probe !== undefined) {
        const p = await probeEndpointByName(ws.db, probe, keyStore, ws.services.llm);
        if (values.json) io.out(JSON.stringify(p, null, 2));
        else for (const line of formatProbe(p)) io.out(line);
        return p.ok ? 0 : 1;
      }
      const list = listEndpoints(ws.db);
      if (values.json)
        io.out(
          JSON.stringify(
            list.map((e) => ({ ...e, replicaFigures: endpointReplicas(ws.db, e.name, ws.services.llm) })),
            null,
            2,
          ),
        );
      else if (list.length === 0)
        io.out('No endpoints yet. Add one with `ctgi endpoints --save NAME --base-url URL --model M`.');
      else
        for (const e of list) {
          io.out(formatEndpoint(e));
          const figures = endpointReplicas(ws.db, e.name, ws.services.llm);
          if (figures.length > 1 || figures.some((f) => f.calls + f.errors > 0))
            for (const f of figures) io.out(formatReplica(f));
        }
      return 0;
    });
  },
};
