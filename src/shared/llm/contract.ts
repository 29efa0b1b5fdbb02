// The MLLM side's channels: endpoints (keys by reference, replicas, probe), paid usage, and the MTG prompt
// sets edited in Settings.
import { z } from 'zod';
import type { JobId } from '../ids';
import { LLM_ROLES, TEMPERATURE_PARAMS, TOKEN_LIMIT_PARAMS } from './types';
import type {
  EndpointProbe,
  LlmEndpoint,
  PromptSet,
  PromptSetBody,
  ReplicaFigures,
  UsageLine,
} from './types';
import { id } from '../schema-fields';

export const endpointName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][\w.@-]*$/, 'use letters, digits, and . _ - @ (no spaces)');
/** Never the key itself: where to find it (see KeyRef in llm/types.ts). */
const keyRefSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('env'),
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'),
  }),
  z.object({ kind: z.literal('file'), path: z.string().min(1) }),
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('safe-storage'), id: z.string().min(1).max(200) }),
]);
export const endpointInputSchema = z.object({
  name: endpointName,
  baseUrl: z.url({ protocol: /^https?$/ }),
  model: z.string().min(1).max(300),
  role: z.enum(LLM_ROLES).default('both'),
  /** The paper's VQA setting. */
  temperature: z.number().min(0).max(2).default(0.01),
  maxTokens: z.number().int().min(1).max(1_000_000).default(512),
  concurrency: z.number().int().min(1).max(256).default(4),
  requestsPerMinute: z.number().int().min(1).max(1_000_000).nullable().default(null),
  timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  keyRef: keyRefSchema.default({ kind: 'none' }),
  /** Left out: 'auto' (see TokenLimitParam). */
  tokenLimitParam: z.enum(TOKEN_LIMIT_PARAMS).optional(),
  temperatureParam: z.enum(TEMPERATURE_PARAMS).optional(),
  /** More servers of the same model (see LlmEndpoint.replicas); each base URL once, not the main one. */
  replicas: z
    .array(
      z.object({
        baseUrl: z.url({ protocol: /^https?$/ }),
        concurrency: z.number().int().min(1).max(256).default(4),
      }),
    )
    .max(64)
    .default([]),
  priceInput: z.number().min(0).max(10_000).nullable().default(null),
  priceOutput: z.number().min(0).max(10_000).nullable().default(null),
  batchDiscount: z.number().min(0).max(1).default(0.5),
  /** Only with keyRef.kind = 'safe-storage': the secret to store there. Never stored in the workspace. */
  apiKey: z.string().min(1).optional(),
});

/** A prompt set as edited in Settings (see resources/prompts/mtg-default.json). Regexes are checked in main. */
export const promptSetBodySchema = z.object({
  name: z.string().min(1).max(100),
  version: z.number().int().positive().optional(),
  description: z.string().max(2000).optional(),
  templates: z.object({
    initial: z.string().min(1).max(4000),
    question: z
      .string()
      .min(1)
      .max(4000)
      .refine((t) => t.includes('{question}'), 'must contain {question}'),
    reconstruct: z
      .string()
      .min(1)
      .max(8000)
      .refine(
        (t) => t.includes('{caption}') && t.includes('{answers}'),
        'must contain {caption} and {answers}',
      ),
    answerLine: z
      .string()
      .min(1)
      .max(1000)
      .refine((t) => t.includes('{answer}'), 'must contain {answer}'),
    verify: z
      .string()
      .min(1)
      .max(4000)
      .refine((t) => t.includes('{fact}'), 'must contain {fact}')
      .optional(),
  }),
  filters: z.object({
    notVisible: z.array(z.string().min(1)).max(200),
    refusal: z.array(z.string().min(1)).max(200),
    negative: z.string().min(1),
  }),
  pool: z
    .array(
      z.object({
        id: z.string().min(1).max(100),
        attribute: z.string().min(1).max(100),
        kind: z.enum(['open', 'yesno']),
        text: z.string().min(1).max(1000),
        subject: z.string().min(1).max(100).optional(),
        yes: z.string().min(1).max(200).optional(),
        settledBy: z.array(z.string().min(1)).max(50),
      }),
    )
    .min(1)
    .max(500),
}) satisfies z.ZodType<PromptSetBody>;

export const llmInvokeSchemas = {
  'endpoints:list': z.object({}),
  'endpoints:save': endpointInputSchema,
  'endpoints:delete': z.object({ name: endpointName }),
  'endpoints:probe': z.object({ name: endpointName }),
  /** Desktop app only: moves a damaged keychain file aside so keys can be entered again. */
  'endpoints:reset-key-store': z.object({}),
  'usage:summary': z.object({
    by: z.enum(['job', 'endpoint', 'day']),
    jobId: id<JobId>().optional(),
    sinceMs: z.number().int().min(0).optional(),
  }),
  'endpoints:replicas': z.object({ name: endpointName }),
  'prompts:list': z.object({}),
  'prompts:save': z.object({ body: promptSetBodySchema }),
} as const;

export interface LlmInvokeResults {
  'endpoints:list': LlmEndpoint[];
  'endpoints:save': LlmEndpoint;
  'endpoints:delete': { deleted: boolean };
  'endpoints:probe': EndpointProbe;
  /** Where the old file was kept; null when there was none. */
  'endpoints:reset-key-store': { keptAs: string | null };
  'usage:summary': UsageLine[];
  'endpoints:replicas': ReplicaFigures[];
  'prompts:list': PromptSet[];
  'prompts:save': PromptSet;
}
