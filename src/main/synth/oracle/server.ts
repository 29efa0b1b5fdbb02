// The oracle MLLM: an OpenAI-compatible chat server on loopback that knows the synthetic world. It is
// what MTG and MTI talk to in tests and benchmarks when no real model is at hand: it looks at the
// pixels (perception.ts), understands the usual prompts (language.ts, respond.ts) and can be told to
// be slow, wrong or flaky.
//
// Determinism: answers and their noise (wrongRate, hallucinationRate) depend only on the seed and the
// request's content, so identical requests get identical answers. Faults (429, 500, hangs, malformed
// and empty bodies) and latency jitter are drawn per ATTEMPT from a stream seeded by `seed`, so a retry
// of a failed request can succeed, and a run that sends the same requests in the same order meets the
// same faults.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../errors';
import { createRng, deriveSeed } from '../../rng';
import { createPerception, loadWorld, type Percept, type WorldIndex } from './perception';
import { REQUEST_KINDS, respond, type RequestKind } from './respond';
import { BatchHttpError, createBatchApi, type OracleBatchOptions, type OracleBatchStats } from './batch';

export interface OracleFaults {
  /** Share of attempts answered 429 with a retry-after header. */
  rate429?: number;
  /** The retry-after the 429s carry, in seconds (default 1). */
  retryAfterS?: number;
  rate500?: number;
  /** Share of attempts that never get an answer (the client's timeout must end them). */
  timeoutRate?: number;
  /** Share of attempts answered 200 with a truncated JSON body. */
  malformedRate?: number;
  /** Share of attempts answered 200 with `choices: []`. */
  emptyRate?: number;
}

export interface OracleOptions {
  /** A folder written by `ctgi synth` (its attributes.json); null: colours from the pixels only. */
  world?: string | null;
  port?: number;
  /** Loopback only: 127.0.0.1 (default), ::1 or localhost. */
  host?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string | null;
  seed?: number | string;
  wrongRate?: number;
  hallucinationRate?: number;
  /** Added to every chat answer. */
  latencyMs?: number;
  /** Extra latency, uniform in [0, latencyJitterMs), drawn per attempt. */
  latencyJitterMs?: number;
  faults?: OracleFaults;
  /**
   * Dies when chat attempt number dieAfter + 1 arrives: stops listening and drops every connection,
   * answered or not (a replica whose process or box went away mid-job). `onDie` is told what was in flight.
   */
  dieAfter?: number | null;
  onDie?: (at: OracleDeath) => void;
  /** The Batch API's completion delay, partial errors and expiry. */
  batch?: OracleBatchOptions;
}

/** What a replica had done when it died. */
export interface OracleDeath {
  answered: number;
  /** Chat requests received and not answered at that moment (the one that triggered it included). */
  inFlight: number;
}

export const ORACLE_MODELS = { vision: 'oracle-vl', text: 'oracle-text' } as const;

export interface OracleStats {
  /** Chat completion attempts received (every one, faults included). */
  requests: number;
  /** Attempts answered with a completion. */
  answered: number;
  byKind: Record<RequestKind, number>;
  /** Answers the noise made wrong or hallucinated. */
  noisy: number;
  faults: { rate429: number; rate500: number; timeout: number; malformed: number; empty: number };
  /** Requests refused with a 4xx (bad key, bad body, unknown model, image to the text model, …), by status. */
  refused: Record<string, number>;
  modelListRequests: number;
  perception: { hits: number; misses: number; matched: number; unmatched: number };
  inFlight: number;
  maxInFlight: number;
  batch: OracleBatchStats;
}

export interface OracleServer {
  /** Base URL for OpenAI clients, ending in /v1. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly world: { dir: string; identities: number } | null;
  stats(): OracleStats;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MAX_BODY = 32 * 1024 * 1024;

interface ContentPart {
  type?: string;
  text?: string;
  image_url?: { url?: string } | string;
}
interface ChatBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function rate(name: string, v: number | undefined): number {
  const r = v ?? 0;
  if (!(r >= 0 && r <= 1))
    throw new AppError('bad_request', `${name} must be a share from 0 to 1, got ${String(v)}.`);
  return r;
}

/** ~4 characters a token, as OpenAI's rule of thumb; an image costs what Qwen2-VL would charge (28 px patches). */
const textTokens = (s: string): number => Math.ceil(s.length / 4);
const imageTokens = (p: Percept | null): number =>
  p ? Math.ceil(p.width / 28) * Math.ceil(p.height / 28) + 2 : 256;

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRaw(req)).toString('utf8');
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(
          new HttpError(413, `The request body is over ${MAX_BODY / 1024 / 1024} MB; send smaller images.`),
        );
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the oracle; resolves once it listens. */
export async function startOracle(opts: OracleOptions = {}): Promise<OracleServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) {
    throw new AppError(
      'bad_request',
      `The oracle listens on loopback only (127.0.0.1, ::1 or localhost), not "${host}". It is a test double, not a service.`,
    );
  }
  const seed = opts.seed ?? 1;
  const noise = {
    seed,
    wrongRate: rate('wrongRate', opts.wrongRate),
    hallucinationRate: rate('hallucinationRate', opts.hallucinationRate),
  };
  const f = opts.faults ?? {};
  const faults = {
    rate429: rate('faults.rate429', f.rate429),
    rate500: rate('faults.rate500', f.rate500),
    timeout: rate('faults.timeoutRate', f.timeoutRate),
    malformed: rate('faults.malformedRate', f.malformedRate),
    empty: rate('faults.emptyRate', f.emptyRate),
  };
  if (faults.rate429 + faults.rate500 + faults.timeout + faults.malformed + faults.empty > 1) {
    throw new AppError('bad_request', 'The fault rates add up to more than 1; lower some of them.');
  }
  const retryAfterS = f.retryAfterS ?? 1;
  const latencyMs = Math.max(0, opts.latencyMs ?? 0);
  const jitterMs = Math.max(0, opts.latencyJitterMs ?? 0);
  const world: WorldIndex | null = opts.world ? await loadWorld(opts.world) : null;
  const perception = createPerception(world);
  const attempts = createRng(deriveSeed(seed, 'attempts'));
  const apiKey = opts.apiKey ?? null;
  const dieAfter = opts.dieAfter ?? null;

  const stats: OracleStats = {
    requests: 0,
    answered: 0,
    byKind: Object.fromEntries(REQUEST_KINDS.map((k) => [k, 0])) as Record<RequestKind, number>,
    noisy: 0,
    faults: { rate429: 0, rate500: 0, timeout: 0, malformed: 0, empty: 0 },
    refused: {},
    modelListRequests: 0,
    perception: perception.stats,
    inFlight: 0,
    maxInFlight: 0,
    batch: undefined as unknown as OracleBatchStats,
  };
  const batchApi = createBatchApi(opts.batch ?? {}, (raw) => complete(raw));
  stats.batch = batchApi.stats;
  let served = 0;

  const sendJson = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      ...headers,
    });
    res.end(payload);
  };
  const sendError = (res: ServerResponse, e: HttpError, headers: Record<string, string> = {}): void => {
    if (e.status < 500) stats.refused[e.status] = (stats.refused[e.status] ?? 0) + 1;
    sendJson(
      res,
      e.status,
      { error: { message: e.message, type: e.type, param: e.param, code: e.code } },
      headers,
    );
  };

  const modelList = (): unknown => ({
    object: 'list',
    data: Object.values(ORACLE_MODELS).map((id) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'ctgi-oracle',
    })),
  });

  let dead = false;
  const die = (): void => {
    if (dead) return;
    dead = true;
    const at: OracleDeath = { answered: stats.answered, inFlight: stats.inFlight };
    server.close();
    server.closeAllConnections();
    opts.onDie?.(at);
  };

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (dieAfter !== null && stats.requests >= dieAfter) {
      die();
      return;
    }
    stats.requests++;
    // Per-attempt draws, in arrival order: one for the fault, one for the jitter.
    const u = attempts.next();
    const jitter = jitterMs > 0 ? attempts.next() * jitterMs : 0;
    if (latencyMs + jitter > 0) await sleep(latencyMs + jitter);
    let edge = 0;
    const hit = (r: number): boolean => u < (edge += r);
    if (hit(faults.rate429)) {
      stats.faults.rate429++;
      sendJson(
        res,
        429,
        {
          error: {
            message: 'Rate limit reached for oracle-vl; please retry after the indicated time.',
            type: 'requests',
            param: null,
            code: 'rate_limit_exceeded',
          },
        },
        { 'retry-after': String(retryAfterS) },
      );
      return;
    }
    if (hit(faults.rate500)) {
      stats.faults.rate500++;
      sendJson(res, 500, {
        error: {
          message: 'The oracle had an internal error (injected fault); retry the request.',
          type: 'server_error',
          param: null,
          code: null,
        },
      });
      return;
    }
    if (hit(faults.timeout)) {
      stats.faults.timeout++;
      // Never answer: the client's timeout (or closing the server) ends it.
      await new Promise<void>((r) => res.on('close', () => r()));
      return;
    }
    const malformed = hit(faults.malformed);
    const empty = !malformed && hit(faults.empty);
    const completion = await complete(raw);
    if (empty) {
      completion.choices = [];
      stats.faults.empty++;
    }
    if (malformed) {
      stats.faults.malformed++;
      const text = JSON.stringify(completion);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text.slice(0, Math.floor(text.length / 2)));
      return;
    }
    sendJson(res, 200, completion);
  }

  /** The completion for one request body (no faults, no latency): what chat answers and what a batch line gets. */
  async function complete(raw: string): Promise<{ choices: unknown[] } & Record<string, unknown>> {
    let body: ChatBody;
    try {
      body = JSON.parse(raw) as ChatBody;
    } catch {
      throw new HttpError(400, 'The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null)
      throw new HttpError(400, 'The request body must be a JSON object with "model" and "messages".');
    const model = body.model;
    if (typeof model !== 'string')
      throw new HttpError(
        400,
        '"model" is required (oracle-vl or oracle-text).',
        'invalid_request_error',
        null,
        'model',
      );
    if (model !== ORACLE_MODELS.vision && model !== ORACLE_MODELS.text) {
      throw new HttpError(
        404,
        `The model \`${model}\` does not exist. This server has ${ORACLE_MODELS.vision} (images and text) and ${ORACLE_MODELS.text} (text only).`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    }
    if (body.stream === true)
      throw new HttpError(
        400,
        'Streaming is not supported by the oracle; send "stream": false.',
        'invalid_request_error',
        null,
        'stream',
      );
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new HttpError(
        400,
        '"messages" must be a non-empty array of {role, content}.',
        'invalid_request_error',
        null,
        'messages',
      );
    }
    const texts: string[] = [];
    const images: string[] = [];
    let question = '';
    let promptTokens = 0;
    body.messages.forEach((m: unknown, i: number) => {
      const msg = m as { role?: unknown; content?: unknown };
      if (typeof msg !== 'object' || msg === null || typeof msg.role !== 'string') {
        throw new HttpError(
          400,
          `messages[${i}] must be an object with a "role" and "content".`,
          'invalid_request_error',
          null,
          `messages.[${i}]`,
        );
      }
      const parts: ContentPart[] =
        typeof msg.content === 'string'
          ? [{ type: 'text', text: msg.content }]
          : Array.isArray(msg.content)
            ? (msg.content as ContentPart[])
            : [];
      const own: string[] = [];
      parts.forEach((p, j) => {
        if (p?.type === 'text' && typeof p.text === 'string') own.push(p.text);
        else if (p?.type === 'image_url') {
          if (model === ORACLE_MODELS.text) {
            throw new HttpError(
              400,
              `Invalid content type. image_url is only supported by certain models: ${ORACLE_MODELS.text} is text-only; use ${ORACLE_MODELS.vision} for images.`,
              'invalid_request_error',
              null,
              `messages.[${i}].content.[${j}].type`,
            );
          }
          const url = typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
          if (typeof url !== 'string')
            throw new HttpError(
              400,
              `messages[${i}].content[${j}].image_url.url is missing.`,
              'invalid_request_error',
              null,
              `messages.[${i}].content.[${j}]`,
            );
          images.push(url);
        }
      });
      const text = own.join('\n');
      promptTokens += textTokens(text) + 4;
      texts.push(text);
      if (msg.role === 'user') question = text;
    });

    let percept: Percept | null = null;
    if (images.length > 0) {
      try {
        percept = await perception.see(images[0] as string);
      } catch (err) {
        if (err instanceof AppError)
          throw new HttpError(400, err.message, 'invalid_request_error', null, 'image_url');
        throw err;
      }
      promptTokens += imageTokens(percept) + (images.length - 1) * imageTokens(null);
    }
    const answer = respond({ question, conversation: texts.join('\n'), percept }, noise);
    let content = answer.content;
    let finish = 'stop';
    const maxTokens =
      typeof body.max_completion_tokens === 'number'
        ? body.max_completion_tokens
        : typeof body.max_tokens === 'number'
          ? body.max_tokens
          : null;
    if (maxTokens !== null && maxTokens > 0 && textTokens(content) > maxTokens) {
      content = content.slice(0, maxTokens * 4).replace(/\s+\S*$/, '') || content.slice(0, maxTokens * 4);
      finish = 'length';
    }
    stats.answered++;
    stats.byKind[answer.kind]++;
    if (answer.noisy) stats.noisy++;
    served++;
    const completionTokens = textTokens(content);
    const completion = {
      id: `chatcmpl-oracle-${served}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      system_fingerprint: `oracle-${String(seed)}`,
      choices: [
        { index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: finish },
      ] as unknown[],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
    return completion;
  }

  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0] as string;
    void (async () => {
      if (apiKey !== null && req.headers.authorization !== `Bearer ${apiKey}`) {
        // Like OpenAI, but without echoing what was sent: a test double should not teach leaking keys.
        throw new HttpError(
          401,
          'Incorrect API key provided. Pass the key the oracle was started with (--api-key) as a Bearer token.',
          'invalid_request_error',
          'invalid_api_key',
        );
      }
      if (req.method === 'GET' && url === '/v1/models') {
        stats.modelListRequests++;
        sendJson(res, 200, modelList());
        return;
      }
      const one = /^\/v1\/models\/(.+)$/.exec(url);
      if (req.method === 'GET' && one) {
        const id = decodeURIComponent(one[1] as string);
        if (!Object.values(ORACLE_MODELS).includes(id as never))
          throw new HttpError(
            404,
            `The model \`${id}\` does not exist.`,
            'invalid_request_error',
            'model_not_found',
          );
        sendJson(res, 200, { id, object: 'model', created: 0, owned_by: 'ctgi-oracle' });
        return;
      }
      if (req.method === 'GET' && url === '/v1/oracle/stats') {
        sendJson(res, 200, { ...stats, perception: { ...perception.stats } });
        return;
      }
      if (url === '/v1/files' && req.method === 'POST') {
        const raw = await readRaw(req);
        sendJson(res, 200, batchApi.uploadFile(req.headers['content-type'] ?? '', raw));
        return;
      }
      const content = /^\/v1\/files\/([^/]+)\/content$/.exec(url);
      if (content && req.method === 'GET') {
        const bytes = batchApi.fileContent(decodeURIComponent(content[1]!));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
        res.end(bytes);
        return;
      }
      if (url === '/v1/batches' && req.method === 'POST') {
        sendJson(res, 200, await batchApi.createBatch(await readBody(req)));
        return;
      }
      if (url === '/v1/batches' && req.method === 'GET') {
        sendJson(res, 200, await batchApi.listBatches());
        return;
      }
      const batch = /^\/v1\/batches\/([^/]+)$/.exec(url);
      if (batch && req.method === 'GET') {
        sendJson(res, 200, await batchApi.getBatch(decodeURIComponent(batch[1]!)));
        return;
      }
      if (url === '/v1/chat/completions') {
        if (req.method !== 'POST') throw new HttpError(405, 'Use POST for /v1/chat/completions.');
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        try {
          await chat(req, res);
        } finally {
          stats.inFlight--;
        }
        return;
      }
      throw new HttpError(
        404,
        `Unknown path ${req.method ?? ''} ${url}. The oracle serves GET /v1/models, POST /v1/chat/completions, POST /v1/files, GET /v1/files/{id}/content, POST and GET /v1/batches, GET /v1/batches/{id} and GET /v1/oracle/stats.`,
        'invalid_request_error',
        'not_found',
      );
    })().catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      if (err instanceof HttpError) sendError(res, err);
      else if (err instanceof BatchHttpError) sendError(res, new HttpError(err.status, err.message));
      else
        sendError(
          res,
          new HttpError(
            500,
            `The oracle failed: ${err instanceof Error ? err.message : String(err)}`,
            'server_error',
          ),
        );
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new AppError(
              'conflict',
              `Port ${opts.port ?? 0} is in use; pick another --port (or 0 for any free port).`,
            )
          : err,
      ),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/v1`,
    port,
    host,
    world: world ? { dir: world.dir, identities: world.identities } : null,
    stats: () => ({
      ...stats,
      byKind: { ...stats.byKind },
      faults: { ...stats.faults },
      refused: { ...stats.refused },
      perception: { ...perception.stats },
      batch: { ...stats.batch },
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
