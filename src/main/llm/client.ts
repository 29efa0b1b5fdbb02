import OpenAI from 'openai';
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { LlmEndpoint, SentParams } from '#shared/llm/types';
import { callLog, type CallContext } from '../db/repos/llm';
import type { WritableDb } from '../db/types';
import { LlmError, redact, type RequestParam } from './errors';
import { requestHash, type ChatMessage, type LlmImage } from './hash';
import { describeKeyRef, resolveApiKey, type KeyStore } from './keys';
import { abortReason, sleep, type EndpointLimiter } from './limiter';
import { errorBodies, nodeFetch } from './http-fetch';
import { replicasOf, type Replica, type ReplicaPool } from './replicas';
import { endpointKey, LlmRuntime, type SharedCall } from './runtime';
import { backoffMs, DEFAULT_RETRY, retryAfterMs, type RetryPolicy } from './retry';

export interface ChatRequest {
  messages: ChatMessage[];
  /** Attached to the last user message, before its text (the order Qwen-VL and GPT-4o expect). */
  images?: LlmImage[];
  temperature?: number;
  maxTokens?: number;
  /** Extra body parameters (seed, stop, response_format, …); part of the cache key. */
  params?: Record<string, unknown>;
  /** What the call is for ('mtg.question', 'mti.anchor', 'probe', …): recorded with it. */
  purpose: string;
  signal?: AbortSignal;
  /** Ask the server even if the answer is cached (the probe does); the answer is still recorded. */
  fresh?: boolean;
}

export interface ChatResult {
  content: string;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** True when no HTTP call was made for this request: a cache hit or a join onto an identical call. */
  cached: boolean;
  /** The llm_calls row of the paid answer. */
  callId: number;
  requestHash: string;
  /** The token-limit field and temperature this answer was asked with (part of requestHash). */
  sentParams: SentParams;
}

/** What the calls log needs to record an answer to a request that is no longer at hand. */
export interface CallKey {
  requestHash: string;
  purpose: string;
}

/** A request made ready for the Batch API: its body, its cache key, and its cached outcome when there is one. */
export interface PreparedCall {
  requestHash: string;
  purpose: string;
  body: ChatCompletionCreateParamsNonStreaming;
  /** Already answered (or refused) before: no need to send it. */
  cached: { result: ChatResult } | { error: LlmError } | null;
  readonly ctx: CallContext;
  readonly sent: SentParams;
}

export interface LlmClient {
  readonly endpoint: LlmEndpoint;
  chat(req: ChatRequest): Promise<ChatResult>;
  prepare(req: ChatRequest): PreparedCall;
  /**
   * Records what a batch line answered (a chat.completion body), as chat records an HTTP answer: a paid
   * answer is cached under the request's key; returns it, or throws the LlmError chat would have thrown.
   */
  settle(p: CallKey, raw: unknown, batchId: number | null): ChatResult;
  /** Records a batch line that failed (never served from the cache: the request may be sent again). */
  settleError(p: CallKey, kind: LlmError['kind'], message: string, batchId: number | null): void;
  /** The SDK client of the endpoint's main server (files and batches live there), key resolved. */
  sdk(): Promise<OpenAI>;
  /** Model ids from `GET /models`. */
  listModels(signal?: AbortSignal): Promise<string[]>;
}

export interface LlmClientOptions {
  retry?: Partial<RetryPolicy>;
  /**
   * The workspace's LLM runtime (`ws.services.llm`): its limiter and replica pool of this endpoint, the
   * identical calls in flight and the fields servers rejected are shared with every other client of the
   * workspace. Without one the client has its own and shares nothing (tests, one-off probes).
   */
  runtime?: LlmRuntime;
  /** By default the runtime's limiter of this endpoint. */
  limiter?: EndpointLimiter;
  env?: NodeJS.ProcessEnv;
  random?: () => number;
  /** By default the runtime's replica pool of this endpoint. */
  pool?: ReplicaPool;
  /** The job the calls are made for: recorded with each, so cost per job is a sum over the log. */
  jobId?: number;
}

type Shared = SharedCall<ChatResult>;

// OpenAI's reasoning families (o1, o3, o4-mini, gpt-5, gpt-5.1, …), also behind a provider prefix
// ("openai/o3-mini"): they reject `max_tokens` for `max_completion_tokens`, and any temperature but 1.
const REASONING_MODEL = /(?:^|[/:])(?:o[134]|gpt-5)(?:$|[-_.:@])/i;

export function isReasoningModel(model: string): boolean {
  return REASONING_MODEL.test(model);
}

/** What an endpoint profile sends, its 'auto' settings resolved by model name. */
export function sentParamsFor(
  e: Pick<LlmEndpoint, 'model' | 'tokenLimitParam' | 'temperatureParam'>,
): SentParams {
  const reasoning = isReasoningModel(e.model);
  return {
    tokenLimitParam:
      e.tokenLimitParam === 'auto' ? (reasoning ? 'max_completion_tokens' : 'max_tokens') : e.tokenLimitParam,
    temperature: e.temperatureParam === 'auto' ? !reasoning : e.temperatureParam === 'send',
  };
}

// Phrases servers use when a text-only model is sent an image (vLLM, llama.cpp, Ollama, OpenAI).
const NO_VISION =
  /image input is not supported|not a multimodal model|does not support (image|vision|multimodal)|image_url is only supported|mmproj|vision is not supported|unsupported content type.*image|images? (are|is) not supported/i;

/**
 * A client for one OpenAI-compatible endpoint. Every call goes through the endpoint's limiter, the
 * llm_calls cache and our own retry loop (the SDK's retries are off so that retry-after, backoff and
 * the record of each attempt are ours).
 */
export function createLlmClient(
  db: WritableDb,
  endpoint: LlmEndpoint,
  keyStore: KeyStore,
  opts: LlmClientOptions = {},
): LlmClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const random = opts.random ?? Math.random;
  const baseUrl = endpoint.baseUrl.replace(/\/+$/, '');
  const runtime = opts.runtime ?? new LlmRuntime();
  const pool = opts.pool ?? runtime.poolFor(endpointKey(endpoint), replicasOf(endpoint));
  // The limiter bounds the whole pool (and spaces starts for the rpm); the pool picks the server.
  const limiter =
    opts.limiter ?? runtime.limiterFor(endpointKey(endpoint), pool.capacity, endpoint.requestsPerMinute);
  const jobId = opts.jobId ?? null;
  const log = callLog(db);
  const paramsKey = `${baseUrl}|${endpoint.model}`;
  // What servers said with a 400 about the fields they reject, by base URL and model. The probe reports
  // it, so that the user can save it in the profile for the next process too.
  const learnedParams = runtime.learnedParams;
  const currentParams = (): SentParams => ({ ...sentParamsFor(endpoint), ...learnedParams.get(paramsKey) });
  const shared = runtime.inFlight as Map<string, Shared>;

  // The key is resolved on first use, so a job whose answers are all cached runs without one.
  let sdkPromise: Promise<{ sdk: OpenAI; key: string | null; at: (url: string) => OpenAI }> | null = null;
  const getSdk = (): Promise<{ sdk: OpenAI; key: string | null; at: (url: string) => OpenAI }> => {
    sdkPromise ??= resolveApiKey(endpoint.keyRef, keyStore, opts.env).then((key) => {
      const sdks = new Map<string, OpenAI>();
      // One SDK client per replica: the same key and settings, another base URL.
      const at = (url: string): OpenAI => {
        let sdk = sdks.get(url);
        if (!sdk) {
          sdk = new OpenAI({
            apiKey: key ?? 'no-key',
            baseURL: url,
            maxRetries: 0,
            timeout: endpoint.timeoutMs,
            logLevel: 'off',
            fetch: nodeFetch,
            // Local servers (vLLM, Ollama) need no key: send no Authorization header at all.
            defaultHeaders: key === null ? { Authorization: null } : undefined,
          });
          sdks.set(url, sdk);
        }
        return sdk;
      };
      return { key, sdk: at(baseUrl), at };
    });
    sdkPromise.catch(() => {
      sdkPromise = null; // let the user fix the key and try again
    });
    return sdkPromise;
  };
  if (pool.size > 1) {
    pool.setProbe(async (url, signal) => {
      const { at } = await getSdk();
      await at(url).models.list({ signal, maxRetries: 0 });
    });
  }

  const classify = async (
    err: unknown,
    hadImages: boolean,
    signal: AbortSignal,
    key: string | null,
    server = baseUrl,
  ): Promise<LlmError | Error> => {
    if (signal.aborted) return abortReason(signal);
    if (err instanceof LlmError) return err;
    if (err instanceof OpenAI.APIConnectionTimeoutError) {
      return new LlmError(
        'timeout',
        `${endpoint.name} did not answer within ${endpoint.timeoutMs / 1000} s. Raise the endpoint's timeout or lower its concurrency.`,
      );
    }
    if (err instanceof OpenAI.APIUserAbortError) return abortReason(signal);
    if (err instanceof OpenAI.APIConnectionError) {
      const cause =
        err.cause instanceof Error
          ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}`
          : '';
      return new LlmError(
        'unreachable',
        `Cannot reach ${server}${redact(cause, key)}. Is the server running, and is the base URL right?`,
      );
    }
    if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
      const status = err.status;
      const detail = serverDetail(err, key);
      const code = (err.code ?? (err.error as { code?: unknown } | undefined)?.code) as string | undefined;
      if (status === 401 || status === 403) {
        return new LlmError(
          'auth',
          `${endpoint.name} refused the API key (${status}${detail ? `: ${detail}` : ''}). Check the key in ${describeKeyRef(endpoint.keyRef)}.`,
          status,
        );
      }
      if (status === 404) return modelNotFound(status, detail);
      if (status === 429) {
        if (code === 'insufficient_quota') {
          return new LlmError(
            'rate_limited',
            `${endpoint.name} says the account is out of quota${detail ? ` (${detail})` : ''}. Add credit or use another key.`,
            status,
            false,
          );
        }
        return new LlmError(
          'rate_limited',
          `${endpoint.name} is rate-limiting requests (429). Lower the endpoint's requests per minute or concurrency.`,
          status,
        );
      }
      if (status === 408)
        return new LlmError('timeout', `${endpoint.name} timed out the request (408).`, status);
      if (status >= 500)
        return new LlmError(
          'server',
          `${endpoint.name} failed with a server error (${status}${detail ? `: ${detail}` : ''}).`,
          status,
        );
      if (hadImages && NO_VISION.test(detail)) {
        return new LlmError(
          'no_vision',
          `The model ${endpoint.model} does not accept images (${detail}). Use a vision model (e.g. Qwen2-VL, GPT-4o) for this endpoint.`,
          status,
        );
      }
      return new LlmError(
        'bad_request',
        `${endpoint.name} rejected the request (${status}${detail ? `: ${detail}` : ''}).`,
        status,
      );
    }
    if (err instanceof SyntaxError) {
      // Usually a body cut short (an overloaded server or proxy): asked again like a 5xx.
      return new LlmError(
        'bad_response',
        `${endpoint.name} answered with malformed JSON. Check that the base URL points at an OpenAI-compatible API.`,
        null,
        true,
      );
    }
    const message = err instanceof Error ? err.message : String(err);
    return new LlmError('bad_response', `${endpoint.name} failed unexpectedly: ${redact(message, key)}`);
  };

  // A 404 is either an unknown model or a wrong base URL; /models tells which, and what to use instead.
  const modelNotFound = async (status: number, detail: string): Promise<LlmError> => {
    let models: string[] | null = null;
    try {
      models = await listModelsRaw(AbortSignal.timeout(Math.min(endpoint.timeoutMs, 10_000)));
    } catch {
      models = null;
    }
    if (models === null) {
      return new LlmError(
        'model_not_found',
        `${baseUrl} answered 404${detail ? ` (${detail})` : ''}, and lists no models. Check the base URL (it usually ends in /v1) and the model name.`,
        status,
      );
    }
    const shown =
      models.slice(0, 20).join(', ') + (models.length > 20 ? `, … (${models.length} in all)` : '');
    return new LlmError(
      'model_not_found',
      `The model "${endpoint.model}" is not served by ${endpoint.name}. Available: ${shown || 'none'}.`,
      status,
    );
  };

  const listModelsRaw = async (signal: AbortSignal): Promise<string[]> => {
    const { sdk } = await getSdk();
    const page = await sdk.models.list({ signal, maxRetries: 0 });
    return page.data.map((m) => m.id);
  };

  /**
   * One HTTP attempt inside the limiter, on a slot of the least busy replica; records its outcome before
   * returning. A failure carries the replica it happened on (`failedOn`), so the caller can fail over.
   */
  const attempt = async (
    body: ChatCompletionCreateParamsNonStreaming,
    baseCtx: CallContext,
    sent: SentParams,
    n: number,
    signal: AbortSignal,
    hadImages: boolean,
  ): Promise<ChatResult> => {
    const { at, key } = await getSdk();
    const replica = await pool.acquire(signal);
    const ctx: CallContext = { ...baseCtx, replica: replica.baseUrl };
    const t0 = performance.now();
    let raw: unknown;
    try {
      raw = await at(replica.baseUrl).chat.completions.create(body, {
        signal,
        maxRetries: 0,
        timeout: endpoint.timeoutMs,
      });
    } catch (err) {
      const e = await classify(err, hadImages, signal, key, replica.baseUrl);
      pool.release(
        replica,
        e instanceof LlmError
          ? { ok: false, kind: e.kind, message: e.message }
          : { ok: false, kind: 'other', message: e.message },
      );
      if (e instanceof LlmError) {
        failedOn.set(e, replica);
        log.recordError(ctx, {
          attempt: n,
          latencyMs: Math.round(performance.now() - t0),
          kind: e.kind,
          message: e.message,
        });
        if (e.retryable && err instanceof OpenAI.APIError) e.retryAfterMs = retryAfterMs(err.headers);
        if (e.kind === 'bad_request' && err instanceof OpenAI.APIError)
          e.unsupportedParam = unsupportedParam(err, body, key);
      }
      throw e;
    }
    const latencyMs = Math.round(performance.now() - t0);
    let answer: ValidAnswer;
    try {
      answer = validate(raw, endpoint.name);
    } catch (e) {
      // The server answered: it is alive, whatever the answer was worth.
      pool.release(replica, { ok: true, latencyMs, ...usageOf(raw) });
      if (e instanceof LlmError && e.kind === 'refused') {
        // Final for this exact request, like an answer: stored with its tokens and served from then on.
        log.recordRefusal(ctx, { attempt: n, latencyMs, message: e.message, ...usageOf(raw) });
      } else if (e instanceof LlmError)
        log.recordError(ctx, { attempt: n, latencyMs, kind: e.kind, message: e.message });
      throw e;
    }
    // Written the moment the answer is known (synchronously, one statement): a crash after this line
    // cannot lose a paid answer.
    const callId = log.recordOk(ctx, { attempt: n, latencyMs, ...answer });
    pool.release(replica, { ok: true, latencyMs, ...answer });
    return {
      ...answer,
      content: answer.response,
      cached: false,
      callId,
      requestHash: ctx.requestHash,
      sentParams: sent,
    };
  };

  /** The first final outcome recorded for this request: its answer, or (thrown) its refusal. */
  const fromCache = (ctx: CallContext, sent: SentParams): ChatResult | undefined => {
    const hit = log.lookupOutcome(ctx.requestHash);
    if (!hit) return undefined;
    log.recordHit(ctx, hit.id);
    // The same typed error the first refusal was, so callers (MTG drops the pair) cannot tell the difference.
    if (hit.kind === 'refusal') throw new LlmError('refused', hit.error);
    return {
      content: hit.response,
      finishReason: hit.finish_reason,
      promptTokens: hit.prompt_tokens,
      completionTokens: hit.completion_tokens,
      cached: true,
      callId: hit.id,
      requestHash: ctx.requestHash,
      sentParams: sent,
    };
  };

  const execute = async (
    call: Call,
    firstSent: SentParams,
    firstCtx: CallContext,
    signal: AbortSignal,
  ): Promise<ChatResult> => {
    let sent = firstSent;
    let ctx = firstCtx;
    let body = buildBody(endpoint.model, call, sent);
    const hadImages = call.images.length > 0;
    const switched = new Set<'tokens' | 'temperature'>();
    // Failures on one replica sent straight to another (not counted as retries): at most a few per replica.
    let failovers = 0;
    for (let n = 1; ; n++) {
      try {
        return await limiter.run(() => attempt(body, ctx, sent, n, signal, hadImages), signal);
      } catch (err) {
        if (signal.aborted) throw abortReason(signal);
        const on = err instanceof LlmError ? failedOn.get(err) : undefined;
        if (
          on &&
          err instanceof LlmError &&
          FAILOVER_KINDS.has(err.kind) &&
          failovers < 2 * pool.size &&
          pool.canFailOver(on)
        ) {
          failovers++;
          // Same request, same key: if anyone recorded its answer meanwhile, that is the answer.
          if (!call.req.fresh) {
            const hit = fromCache(ctx, sent);
            if (hit) return hit;
          }
          n--;
          continue;
        }
        const next = err instanceof LlmError ? switchParam(err.unsupportedParam, sent, switched) : null;
        if (next) {
          // The server named a field it does not take: send the other form once, and from now on. The
          // request is now another one, with its own cache key (someone may have paid for it already).
          learnedParams.set(paramsKey, { ...learnedParams.get(paramsKey), ...next.change });
          sent = { ...sent, ...next.change };
          ctx = { ...ctx, requestHash: hashOf(baseUrl, endpoint.model, call, sent) };
          body = buildBody(endpoint.model, call, sent);
          if (!call.req.fresh) {
            const hit = fromCache(ctx, sent);
            if (hit) return hit;
          }
          n = 0; // attempts count per request sent
          continue;
        }
        if (!(err instanceof LlmError) || !err.retryable || n > policy.retries) throw err;
        let wait = err.retryAfterMs;
        if (wait !== null) {
          if (wait > policy.maxRetryAfterMs) {
            throw new LlmError(
              err.kind,
              `${err.message} The server asks to wait ${Math.ceil(wait / 1000)} s, longer than CTGI waits; try again later.`,
              err.status,
              false,
            );
          }
          limiter.pause(Date.now() + wait);
        } else {
          wait = backoffMs(n, policy, random);
        }
        await sleep(wait, signal);
      }
    }
  };

  /** A request as this client sends it: the call, the parameters it is sent with, its cache key and log context. */
  const callOf = (req: ChatRequest): { call: Call; sent: SentParams; hash: string; ctx: CallContext } => {
    const call: Call = {
      req,
      images: req.images ?? [],
      temperature: req.temperature ?? endpoint.temperature,
      maxTokens: req.maxTokens ?? endpoint.maxTokens,
    };
    const sent = currentParams();
    const hash = hashOf(baseUrl, endpoint.model, call, sent);
    const ctx: CallContext = {
      endpointId: endpoint.id,
      baseUrl,
      model: endpoint.model,
      purpose: req.purpose,
      requestHash: hash,
      jobId,
    };
    return { call, sent, hash, ctx };
  };

  const chat = async (req: ChatRequest): Promise<ChatResult> => {
    const { call, sent, hash, ctx } = callOf(req);
    if (req.signal?.aborted) throw abortReason(req.signal);

    if (!req.fresh) {
      const hit = fromCache(ctx, sent);
      if (hit) return hit;
    }

    let s = shared.get(hash);
    const joined = s !== undefined;
    if (!s) {
      const controller = new AbortController();
      // Built before the entry is shared: a request that cannot be built fails only its own caller.
      buildBody(endpoint.model, call, sent);
      const entry: Shared = { controller, waiters: 0, promise: execute(call, sent, ctx, controller.signal) };
      entry.promise.then(
        () => shared.delete(hash),
        () => shared.delete(hash),
      );
      shared.set(hash, entry);
      s = entry;
    }
    const result = await waitFor(s, req.signal);
    if (!joined) return result;
    log.recordHit(ctx, result.callId);
    return { ...result, cached: true };
  };

  const prepare = (req: ChatRequest): PreparedCall => {
    const { call, sent, hash, ctx } = callOf(req);
    let cached: PreparedCall['cached'] = null;
    if (!req.fresh) {
      try {
        const hit = fromCache(ctx, sent);
        if (hit) cached = { result: hit };
      } catch (e) {
        if (e instanceof LlmError) cached = { error: e };
        else throw e;
      }
    }
    return {
      requestHash: hash,
      purpose: req.purpose,
      body: buildBody(endpoint.model, call, sent),
      cached,
      ctx,
      sent,
    };
  };

  const keyCtx = (p: CallKey, batchId: number | null): CallContext => ({
    endpointId: endpoint.id,
    baseUrl,
    model: endpoint.model,
    purpose: p.purpose,
    requestHash: p.requestHash,
    jobId,
    batchId,
    replica: null,
  });
  const settle = (p: CallKey, raw: unknown, batchId: number | null): ChatResult => {
    const ctx = keyCtx(p, batchId);
    let answer: ValidAnswer;
    try {
      answer = validate(raw, endpoint.name);
    } catch (e) {
      if (e instanceof LlmError && e.kind === 'refused')
        log.recordRefusal(ctx, { attempt: 1, latencyMs: 0, message: e.message, ...usageOf(raw) });
      else if (e instanceof LlmError)
        log.recordError(ctx, { attempt: 1, latencyMs: null, kind: e.kind, message: e.message });
      throw e;
    }
    const callId = log.recordOk(ctx, { attempt: 1, latencyMs: 0, ...answer });
    return {
      ...answer,
      content: answer.response,
      cached: false,
      callId,
      requestHash: p.requestHash,
      sentParams: currentParams(),
    };
  };

  return {
    endpoint,
    chat,
    prepare,
    settle,
    settleError: (p, kind, message, batchId) =>
      log.recordError(keyCtx(p, batchId), { attempt: 1, latencyMs: null, kind, message }),
    sdk: async () => (await getSdk()).sdk,
    listModels: async (signal) => {
      const sig = signal ?? AbortSignal.timeout(endpoint.timeoutMs);
      try {
        return await listModelsRaw(sig);
      } catch (err) {
        const key = await getSdk().then(
          (s) => s.key,
          () => null,
        );
        throw await classify(err, false, sig, key);
      }
    },
  };
}

// The replica a failed attempt was sent to, so that the retry loop can send it elsewhere at once.
const failedOn = new WeakMap<LlmError, Replica>();
const FAILOVER_KINDS: ReadonlySet<LlmError['kind']> = new Set(['unreachable', 'server', 'timeout']);

/** Waits for a shared call; the HTTP request is cancelled only when every waiter has given up. */
function waitFor(s: Shared, signal: AbortSignal | undefined): Promise<ChatResult> {
  s.waiters++;
  if (!signal) return s.promise;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      if (--s.waiters === 0) s.controller.abort(signal.reason);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** One logical request, before the choice of fields that carry its temperature and token limit. */
interface Call {
  req: ChatRequest;
  images: LlmImage[];
  temperature: number;
  maxTokens: number;
}

/** The cache key of a call as sent with `sent`: a temperature left out is not part of it. */
function hashOf(baseUrl: string, model: string, call: Call, sent: SentParams): string {
  return requestHash({
    baseUrl,
    model,
    messages: call.req.messages,
    imageSha256: call.images.map((i) => i.sha256),
    temperature: sent.temperature ? call.temperature : null,
    maxTokens: call.maxTokens,
    tokenLimitParam: sent.tokenLimitParam,
    params: call.req.params,
  });
}

/** The other form of the field a server rejected, once per field kind; null when there is nothing to switch. */
function switchParam(
  param: RequestParam | null,
  sent: SentParams,
  switched: Set<'tokens' | 'temperature'>,
): { change: Partial<SentParams> } | null {
  if (param === null) return null;
  if (param === 'temperature') {
    if (!sent.temperature || switched.has('temperature')) return null;
    switched.add('temperature');
    return { change: { temperature: false } };
  }
  if (param !== sent.tokenLimitParam || switched.has('tokens')) return null;
  switched.add('tokens');
  return { change: { tokenLimitParam: param === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens' } };
}

// How servers word a field they do not take: OpenAI ("Unsupported parameter: 'max_tokens' is not supported
// with this model", "Unsupported value: 'temperature' does not support 0.01 … Only the default (1) value is
// supported"), Azure ("Unrecognized request argument supplied"), pydantic-based servers ("Extra inputs are
// not permitted").
const UNSUPPORTED =
  /unsupported|not supported|does not support|unrecogni[sz]ed|unknown (field|parameter|argument)|extra (fields|inputs)|not permitted|not allowed|only the default/i;
const SWITCHABLE: readonly RequestParam[] = ['max_tokens', 'max_completion_tokens', 'temperature'];

/** The field of this request that a 400 says the server does not support, if it names one. */
function unsupportedParam(
  err: InstanceType<typeof OpenAI.APIError>,
  body: ChatCompletionCreateParamsNonStreaming,
  key: string | null,
): RequestParam | null {
  if (err.status !== 400 && err.status !== 422) return null;
  const sentFields = SWITCHABLE.filter((p) => (body as unknown as Record<string, unknown>)[p] !== undefined);
  const text = serverDetail(err, key);
  const code = typeof err.code === 'string' ? err.code : '';
  if (!UNSUPPORTED.test(text) && !/unsupported/i.test(code)) return null;
  // OpenAI names the field in error.param; others only in the message.
  if (typeof err.param === 'string' && err.param !== '')
    return sentFields.find((p) => p === err.param) ?? null;
  return sentFields.find((p) => new RegExp(`\\b${p}\\b`).test(text)) ?? null;
}

function buildBody(model: string, call: Call, sent: SentParams): ChatCompletionCreateParamsNonStreaming {
  const { req, images } = call;
  let lastUser = -1;
  if (images.length > 0) {
    for (let i = req.messages.length - 1; i >= 0; i--) {
      if (req.messages[i]!.role === 'user') {
        lastUser = i;
        break;
      }
    }
    if (lastUser < 0)
      throw new LlmError('bad_request', 'Images need a user message to go with; this request has none.');
  }
  const messages: ChatCompletionMessageParam[] = req.messages.map((m, i) => {
    if (i !== lastUser) return { role: m.role, content: m.content };
    const parts: ChatCompletionContentPart[] = images.map((img) => ({
      type: 'image_url',
      image_url: { url: img.dataUrl },
    }));
    parts.push({ type: 'text', text: m.content });
    return { role: 'user', content: parts };
  });
  const body: Record<string, unknown> = { ...req.params, model, messages };
  if (sent.temperature) body.temperature = call.temperature;
  body[sent.tokenLimitParam] = call.maxTokens;
  return body as unknown as ChatCompletionCreateParamsNonStreaming;
}

/** The tokens and finish reason of a 200 body, whatever else it holds (a refusal was paid for too). */
function usageOf(raw: unknown): {
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
} {
  const r = (raw ?? {}) as {
    choices?: { finish_reason?: unknown }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  };
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const finish = Array.isArray(r.choices) ? r.choices[0]?.finish_reason : undefined;
  return {
    finishReason: typeof finish === 'string' ? finish : null,
    promptTokens: num(r.usage?.prompt_tokens),
    completionTokens: num(r.usage?.completion_tokens),
  };
}

interface ValidAnswer {
  response: string;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

/**
 * Turns whatever came back with a 200 into an answer, or a typed error saying what was wrong with it. A
 * malformed or empty answer is retryable (bounded by the retry policy, like a 5xx, and each attempt is
 * logged as an error row that the cache never serves); an HTML page or a reply cut by max tokens is not,
 * since asking again gets the same.
 */
function validate(raw: unknown, name: string): ValidAnswer {
  if (typeof raw === 'string') {
    const html = /^\s*(<!doctype html|<html)/i.test(raw);
    throw new LlmError(
      'bad_response',
      html
        ? `${name} answered with an HTML page, not the API. Check the base URL (it usually ends in /v1).`
        : `${name} answered with something that is not JSON. Check that the base URL points at an OpenAI-compatible API.`,
    );
  }
  if (raw === null || typeof raw !== 'object')
    throw new LlmError('bad_response', `${name} answered with an empty body.`, null, true);
  const r = raw as {
    choices?: unknown;
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  };
  if (!Array.isArray(r.choices) || r.choices.length === 0) {
    throw new LlmError(
      'bad_response',
      `${name} answered without any choices. The server may be overloaded or misconfigured; try again.`,
      null,
      true,
    );
  }
  const choice = r.choices[0] as {
    message?: { content?: unknown; refusal?: unknown } | null;
    finish_reason?: unknown;
  };
  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
  const refusal = choice.message?.refusal;
  if (typeof refusal === 'string' && refusal.trim() !== '') {
    throw new LlmError('refused', `The model refused to answer: ${refusal.trim().slice(0, 300)}`);
  }
  if (finishReason === 'content_filter')
    throw new LlmError('refused', `${name}'s content filter blocked the answer.`);
  const content = textOf(choice.message?.content);
  if (content === null || content.trim() === '') {
    // Out of tokens is what the same request gets again; an empty message is worth another attempt.
    if (finishReason === 'length')
      throw new LlmError(
        'bad_response',
        `${name} used up max tokens before answering. Raise the endpoint's max tokens.`,
      );
    throw new LlmError('bad_response', `${name} answered with an empty message.`, null, true);
  }
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    response: content,
    finishReason,
    promptTokens: num(r.usage?.prompt_tokens),
    completionTokens: num(r.usage?.completion_tokens),
  };
}

/** Content is a string in the API, but some servers send an array of text parts. */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts = content
      .map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : ''))
      .join('');
    return texts;
  }
  return null;
}

// The SDK keeps an error body's message only in OpenAI's {"error": {...}} shape; vLLM and others put
// it at the top level, so nodeFetch keeps error bodies, keyed by the headers object the SDK hands on.
/** The server's own words about an error, short, with HTML pages and keys taken out. */
function serverDetail(err: InstanceType<typeof OpenAI.APIError>, key: string | null): string {
  const body = err.error as { message?: unknown } | string | undefined;
  let text = typeof body === 'string' ? body : typeof body?.message === 'string' ? body.message : '';
  if (!text && err.headers) {
    const raw = errorBodies.get(err.headers) ?? '';
    try {
      const parsed = JSON.parse(raw) as { message?: unknown; detail?: unknown; error?: unknown };
      const m = parsed.message ?? parsed.detail ?? parsed.error;
      text = typeof m === 'string' ? m : '';
    } catch {
      text = raw;
    }
  }
  if (!text) text = err.message.replace(/^\d{3}\s*/, '');
  if (/<html|<!doctype/i.test(text)) return 'an HTML error page';
  if (/status code \(no body\)/i.test(text)) return '';
  text = text.replace(/\s+/g, ' ').trim();
  return redact(text.length > 300 ? `${text.slice(0, 300)}…` : text, key);
}
