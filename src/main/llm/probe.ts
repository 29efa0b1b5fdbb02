import sharp from 'sharp';
import type { EndpointProbe, LlmEndpoint, ProbeCheck, ProbeCheckName, SentParams } from '#shared/llm/types';
import { AppError } from '../errors';
import type { WritableDb } from '../db/types';
import { createLlmClient, sentParamsFor, type LlmClientOptions } from './client';
import { LlmError } from './errors';
import { llmImage, type LlmImage } from './hash';
import { describeKeyRef, resolveApiKey, type KeyStore } from './keys';
import { replicasOf } from './replicas';
import { endpointKey } from './runtime';

let probeImage: Promise<LlmImage> | null = null;
/** A plain red square, big enough for every vision encoder's minimum size (Qwen2-VL wants ≥ 56 px). */
function redSquare(): Promise<LlmImage> {
  probeImage ??= sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: 220, g: 20, b: 20 } },
  })
    .png()
    .toBuffer()
    .then((buf) => llmImage(buf, 'image/png'));
  return probeImage;
}

const elapsed = (t0: number): number => Math.round(performance.now() - t0);

/**
 * Checks an endpoint step by step — key, server, model, a text answer, an image answer — and says what to
 * do about the first thing that fails. Never throws for an endpoint problem: that is the result.
 */
export async function probeEndpoint(
  db: WritableDb,
  endpoint: LlmEndpoint,
  keyStore: KeyStore,
  opts: LlmClientOptions = {},
): Promise<EndpointProbe> {
  const servers = replicasOf(endpoint);
  if (servers.length === 1) return probeServer(db, endpoint, keyStore, opts);
  // Every replica is checked on its own, so that the one that is wrong is named; the profile's own
  // server gives the main checks, and a 'replicas' check sums up the rest.
  const each = await Promise.all(
    servers.map((r) =>
      probeServer(
        db,
        { ...endpoint, baseUrl: r.baseUrl, concurrency: r.concurrency, replicas: [] },
        keyStore,
        opts,
      ),
    ),
  );
  const main = each[0]!;
  // What the probe found is what the workspace's pool now believes (a probe without a runtime tells no one).
  const pool = opts.runtime?.poolFor(endpointKey(endpoint), servers);
  servers.forEach((r, i) => {
    const p = each[i]!;
    pool?.markHealth(r.baseUrl, p.ok, p.checks.find((c) => c.status === 'failed')?.detail ?? null);
  });
  const bad = servers.flatMap((r, i) => {
    const p = each[i]!;
    if (p.ok) return [];
    const first = p.checks.find((c) => c.status === 'failed');
    return [`${r.baseUrl}: ${first ? `${first.name} failed: ${first.detail}` : p.advice}`];
  });
  const checks = [...main.checks];
  if (bad.length === 0)
    checks.push({
      name: 'replicas',
      status: 'ok',
      detail: `all ${servers.length} servers answered (${servers.map((r) => r.baseUrl).join(', ')})`,
      latencyMs: null,
    });
  else
    checks.push({
      name: 'replicas',
      status: 'failed',
      detail: `${bad.length} of ${servers.length} servers failed: ${bad.join('; ')}`,
      latencyMs: null,
    });
  const ok = main.ok && bad.length === 0;
  return {
    ...main,
    ok,
    checks,
    advice:
      bad.length === 0
        ? main.advice
        : main.ok
          ? `Fix or remove the failing replica${bad.length > 1 ? 's' : ''} (${bad.map((b) => b.split(': ')[0]).join(', ')}); calls avoid a failing replica, but its share of the capacity is lost.`
          : main.advice,
  };
}

async function probeServer(
  db: WritableDb,
  endpoint: LlmEndpoint,
  keyStore: KeyStore,
  opts: LlmClientOptions,
): Promise<EndpointProbe> {
  const checks: ProbeCheck[] = [];
  let advice = '';
  let availableModels: string[] | null = null;
  let sentParams: SentParams | null = null;
  const add = (
    name: ProbeCheckName,
    status: ProbeCheck['status'],
    detail: string,
    latencyMs: number | null = null,
  ): void => {
    checks.push({ name, status, detail, latencyMs });
  };
  const fail = (
    name: ProbeCheckName,
    detail: string,
    todo: string,
    latencyMs: number | null = null,
  ): void => {
    add(name, 'failed', detail, latencyMs);
    advice ||= todo;
  };
  const skipRest = (): void => {
    for (const name of ['key', 'reachable', 'model', 'chat', 'vision'] as const) {
      if (!checks.some((c) => c.name === name)) add(name, 'skipped', 'not tried: an earlier check failed');
    }
  };
  const result = (): EndpointProbe => ({
    endpoint: endpoint.name,
    model: endpoint.model,
    ok: checks.every((c) => c.status !== 'failed'),
    checks,
    advice: advice || `${endpoint.name} is ready to use.`,
    availableModels,
    sentParams,
  });

  try {
    await resolveApiKey(endpoint.keyRef, keyStore, opts.env);
    add(
      'key',
      'ok',
      endpoint.keyRef.kind === 'none'
        ? 'no key configured (fine for local servers)'
        : `found in ${describeKeyRef(endpoint.keyRef)}`,
    );
  } catch (err) {
    const msg = err instanceof AppError ? err.message : String(err);
    fail('key', msg, msg);
    skipRest();
    return result();
  }

  const client = createLlmClient(db, endpoint, keyStore, {
    ...opts,
    retry: { retries: 1, baseDelayMs: 200, maxDelayMs: 1000, maxRetryAfterMs: 5000, ...opts.retry },
  });

  // 1. Server and model list. Some servers have no /models: then the chat answer decides.
  let t0 = performance.now();
  try {
    availableModels = (await client.listModels()).slice(0, 200);
    add('reachable', 'ok', `${endpoint.baseUrl} answered`, elapsed(t0));
    if (availableModels.includes(endpoint.model)) add('model', 'ok', `${endpoint.model} is listed`);
    else {
      const shown = availableModels.slice(0, 20).join(', ') || 'none';
      fail(
        'model',
        `${endpoint.model} is not among the served models: ${shown}`,
        `Set the model to one the server lists (${shown}).`,
      );
      skipRest();
      return result();
    }
  } catch (err) {
    const e = asLlmError(err);
    if (e.kind === 'unreachable' || e.kind === 'timeout') {
      fail('reachable', e.message, e.message, elapsed(t0));
      skipRest();
      return result();
    }
    if (e.kind === 'auth') {
      add('reachable', 'ok', `${endpoint.baseUrl} answered`, elapsed(t0));
      fail('key', e.message, e.message);
      checks.sort((a, b) => order(a.name) - order(b.name));
      skipRest();
      return result();
    }
    add('reachable', 'ok', `${endpoint.baseUrl} answered, but not to GET /models`, elapsed(t0));
    add('model', 'warning', `the server lists no models (${e.message}); the answers below decide`);
  }

  // 2. A plain text answer: the reconstructor needs nothing more. Reasoning models spend completion
  // tokens thinking before they answer, so 16 would leave them none; they get the profile's limit.
  const planned = sentParamsFor(endpoint);
  const probeTokens =
    planned.tokenLimitParam === 'max_completion_tokens' ? Math.max(16, endpoint.maxTokens) : 16;
  t0 = performance.now();
  try {
    const r = await client.chat({
      purpose: 'probe',
      fresh: true,
      maxTokens: probeTokens,
      messages: [{ role: 'user', content: 'Reply with the single word: ready' }],
    });
    sentParams = r.sentParams;
    const switched = describeSwitch(planned, r.sentParams);
    if (switched === null)
      add('chat', 'ok', `answered "${clip(r.content)}" (${describeSent(r.sentParams)})`, elapsed(t0));
    else {
      add('chat', 'warning', `answered "${clip(r.content)}" once CTGI ${switched.did}`, elapsed(t0));
      advice ||= `${endpoint.name} works with ${describeSent(r.sentParams)}, not as the profile says; ${switched.todo} so that no request is rejected first.`;
    }
  } catch (err) {
    const e = asLlmError(err);
    const name: ProbeCheckName = e.kind === 'model_not_found' ? 'model' : e.kind === 'auth' ? 'key' : 'chat';
    if (name !== 'chat')
      checks.splice(
        checks.findIndex((c) => c.name === name),
        1,
      );
    fail(name, e.message, e.message, elapsed(t0));
    checks.sort((a, b) => order(a.name) - order(b.name));
    skipRest();
    return result();
  }

  // 3. An image: a red square and a question only a model that sees it can answer.
  if (endpoint.role === 'reconstructor') {
    add('vision', 'skipped', 'not needed: this endpoint only reconstructs captions');
    return result();
  }
  t0 = performance.now();
  try {
    const r = await client.chat({
      purpose: 'probe',
      fresh: true,
      maxTokens: probeTokens,
      images: [await redSquare()],
      messages: [{ role: 'user', content: 'What colour is this image? Answer with one word.' }],
    });
    if (/\bred\b/i.test(r.content))
      add('vision', 'ok', `saw the red test image ("${clip(r.content)}")`, elapsed(t0));
    else {
      add('vision', 'warning', `answered "${clip(r.content)}" about a red test image`, elapsed(t0));
      advice ||= `The model did not name the colour of a red test image; check that ${endpoint.model} is a vision model before using it for questions.`;
    }
  } catch (err) {
    const e = asLlmError(err);
    const todo =
      e.kind === 'no_vision'
        ? `Pick a vision model for this endpoint${endpoint.role === 'both' ? ', or set its role to reconstructor' : ''}.`
        : e.message;
    fail('vision', e.message, todo, elapsed(t0));
  }
  return result();
}

const describeSent = (p: SentParams): string =>
  `${p.tokenLimitParam} and ${p.temperature ? 'a temperature' : 'no temperature'}`;

/** What the client changed after the server rejected a field, and which profile settings would say so. */
function describeSwitch(planned: SentParams, sent: SentParams): { did: string; todo: string } | null {
  const did: string[] = [];
  const todo: string[] = [];
  if (planned.tokenLimitParam !== sent.tokenLimitParam) {
    did.push(
      `sent the token limit as ${sent.tokenLimitParam} (the server rejects ${planned.tokenLimitParam})`,
    );
    todo.push(`set the token limit field to ${sent.tokenLimitParam}`);
  }
  if (planned.temperature && !sent.temperature) {
    did.push('left out the temperature (the model only takes its default)');
    todo.push('set temperature to "omit"');
  }
  return did.length === 0 ? null : { did: did.join(' and '), todo: todo.join(' and ') };
}

const order = (n: ProbeCheckName): number => ['key', 'reachable', 'model', 'chat', 'vision'].indexOf(n);
const clip = (s: string): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 60 ? `${t.slice(0, 60)}…` : t;
};

function asLlmError(err: unknown): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof AppError && err.code === 'unauthorized') return new LlmError('auth', err.message);
  return new LlmError('bad_response', err instanceof Error ? err.message : String(err));
}
