// The llm feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { Brand } from '../ids';

// ── MLLM endpoints (issue 4) ────────────────────────────────────────────────────────────────────
export type LlmEndpointId = Brand<number, 'LlmEndpointId'>;

/** What an endpoint is used for: MTG/MTI questions about images, caption reconstruction, or both. */
export const LLM_ROLES = ['vqa', 'reconstructor', 'both'] as const;
export type LlmRole = (typeof LLM_ROLES)[number];

/**
 * Where an endpoint's API key comes from. The key itself is never stored in the workspace nor sent to
 * the renderer: only this reference is. `file` must be readable by its owner only (mode 0600).
 */
export type KeyRef =
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string }
  | { kind: 'none' }
  | { kind: 'safe-storage'; id: string };
export const KEY_REF_KINDS = ['env', 'file', 'none', 'safe-storage'] as const;

export interface EndpointReplica {
  baseUrl: string;
  concurrency: number;
}

/** One server of an endpoint: what the calls log says it did, and its health as this process sees it. */
export interface ReplicaFigures {
  baseUrl: string;
  concurrency: number;
  /** Null when this process has not called the endpoint yet (health is known only from calls and probes). */
  healthy: boolean | null;
  inFlight: number;
  calls: number;
  errors: number;
  meanLatencyMs: number | null;
  promptTokens: number;
  completionTokens: number;
  lastError: string | null;
  lastCallAt: number | null;
}

/** Paid tokens and their cost for one job, endpoint or day (USD; null where an endpoint has no price). */
export interface UsageLine {
  key: string;
  calls: number;
  batchCalls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
}

export interface LlmEndpoint {
  id: LlmEndpointId;
  name: string;
  /** OpenAI-compatible base URL, usually ending in `/v1`. */
  baseUrl: string;
  model: string;
  role: LlmRole;
  temperature: number;
  maxTokens: number;
  /** Requests in flight at once against this endpoint. */
  concurrency: number;
  /** Requests started per minute; null = no limit beyond `concurrency`. */
  requestsPerMinute: number | null;
  /** Per-attempt timeout. */
  timeoutMs: number;
  keyRef: KeyRef;
  /** Which body field carries `maxTokens` (OpenAI's reasoning models reject `max_tokens`). */
  tokenLimitParam: TokenLimitParam;
  /**
   * More servers of the same model beside `baseUrl` (one vLLM server per GPU box), each with its own
   * concurrency. Calls go to the least busy healthy one; answers are cached under `baseUrl` whichever served.
   */
  replicas: EndpointReplica[];
  /** USD per million prompt / completion tokens; null: not priced (cost is then shown as unknown). */
  priceInput: number | null;
  priceOutput: number | null;
  /** Share of the price paid for Batch API calls (OpenAI: 0.5). */
  batchDiscount: number;
  /** Whether `temperature` is sent (OpenAI's reasoning models reject any value but the default). */
  temperatureParam: TemperatureParam;
  createdAt: number;
  updatedAt: number;
}

/**
 * 'auto' sends `max_completion_tokens` to OpenAI's o1/o3/o4/gpt-5 families (by model name) and
 * `max_tokens` to everything else (vLLM, Ollama, llama.cpp, GPT-4o); a 400 naming the field switches once.
 */
export const TOKEN_LIMIT_PARAMS = ['auto', 'max_tokens', 'max_completion_tokens'] as const;
export type TokenLimitParam = (typeof TOKEN_LIMIT_PARAMS)[number];
/** 'auto' omits `temperature` for the same reasoning families and sends it to the rest. */
export const TEMPERATURE_PARAMS = ['auto', 'send', 'omit'] as const;
export type TemperatureParam = (typeof TEMPERATURE_PARAMS)[number];

/** The request fields a call actually used: what the probe reports and the cache key includes. */
export interface SentParams {
  tokenLimitParam: Exclude<TokenLimitParam, 'auto'>;
  temperature: boolean;
}

/** In order: each one is only tried when the ones before it passed. */
export const PROBE_CHECKS = ['key', 'reachable', 'model', 'chat', 'vision', 'replicas'] as const;
export type ProbeCheckName = (typeof PROBE_CHECKS)[number];
export type ProbeCheckStatus = 'ok' | 'warning' | 'failed' | 'skipped';

export interface ProbeCheck {
  name: ProbeCheckName;
  status: ProbeCheckStatus;
  detail: string;
  latencyMs: number | null;
}

export interface EndpointProbe {
  endpoint: string;
  model: string;
  /** Every check passed (warnings allowed). */
  ok: boolean;
  checks: ProbeCheck[];
  /** One sentence: what to do next. */
  advice: string;
  /** Model ids the server listed, when it answered /models (capped). */
  availableModels: string[] | null;
  /**
   * The token-limit field and temperature the text answer went through (after any switch the server
   * forced with a 400); null when no answer came back.
   */
  sentParams?: SentParams | null;
}

// ── MTG: multi-turn caption generation (issue 4) ──────────────────────────────────────────────────
/** One attribute-targeted question of the pool. `settledBy` are regexes (case-insensitive): when one
 * matches what is already known about the image, the question is skipped. */
export interface PoolQuestion {
  id: string;
  attribute: string;
  /** `open` answers are phrases ("red", "a blue backpack"); `yesno` answers become `yes` when affirmative. */
  kind: 'open' | 'yesno';
  text: string;
  /** Noun added to a bare answer so it reads as a fact on its own ("red" + "shoes" → "red shoes"). */
  subject?: string;
  /** The fact stated by an affirmative answer to a yes/no question. */
  yes?: string;
  settledBy: string[];
}

/** A versioned set of MTG templates, relevance filters and the question pool. */
export interface PromptSetBody {
  name: string;
  version?: number;
  description?: string;
  templates: {
    /** P_init. */
    initial: string;
    /** Wraps each pool question; `{question}` is replaced. */
    question: string;
    /** `{caption}` and `{answers}` are replaced. */
    reconstruct: string;
    /** One kept Q&A pair inside `{answers}`: `{question}`, `{answer}`. */
    answerLine: string;
    /**
     * The optional verification check: a yes/no question about one kept fact (`{fact}`; `{question}` and
     * `{answer}` are also filled). Absent in sets saved before it existed; the default is used then.
     */
    verify?: string;
  };
  filters: {
    /** Regexes for answers saying the attribute cannot be seen. */
    notVisible: string[];
    refusal: string[];
    /** One regex for a negative answer ("no", "none"): the thing asked about is absent. */
    negative: string;
  };
  pool: PoolQuestion[];
}

export interface PromptSet {
  id: number;
  name: string;
  version: number;
  /** sha256 of the body's canonical JSON: equal bodies are one version. */
  sha256: string;
  body: PromptSetBody;
  createdAt: number;
}
