import type { ParsedArg } from '#shared/contract';
import type { EndpointProbe, KeyRef, LlmEndpoint, ReplicaFigures } from '#shared/llm/types';
import {
  deleteEndpoint,
  getEndpointByName,
  listEndpoints,
  replicaUsage,
  upsertEndpoint,
} from '../db/repos/llm';
import type { WritableDb } from '../db/types';
import { AppError, badRequest, notFound } from '../errors';
import { createLlmClient, type LlmClient, type LlmClientOptions } from './client';
import { checkApiKeyRef, type KeyStore } from './keys';
import { probeEndpoint } from './probe';
import { replicasOf } from './replicas';
import { endpointKey, type LlmRuntime } from './runtime';

/**
 * Who is saving: `api` is anyone holding the server's token (HTTP, or the renderer over IPC), limited to
 * the key references of `checkApiKeyRef`; `local` is the user at this machine's command line.
 */
export type SaveOrigin = 'api' | 'local';

const sameKeyRef = (a: KeyRef, b: KeyRef): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** The services behind `endpoints:*`, shared by the API handlers and `ctgi endpoints`. */
export async function saveEndpoint(
  db: WritableDb,
  input: ParsedArg<'endpoints:save'>,
  keyStore: KeyStore,
  origin: SaveOrigin = 'api',
): Promise<LlmEndpoint> {
  const { apiKey, ...profile } = input;
  const urls = [profile.baseUrl, ...profile.replicas.map((r) => r.baseUrl)].map((u) => u.replace(/\/+$/, ''));
  const twice = urls.find((u, i) => urls.indexOf(u) !== i);
  if (twice !== undefined)
    throw badRequest(`${twice} is named twice among the endpoint's servers; list each replica once.`);
  if (origin === 'api') {
    const existing = getEndpointByName(db, profile.name);
    // A key the local user set stays usable from the browser (the form sends the profile back whole),
    // but only towards the base URL that user chose: a new URL with the same key is the same leak.
    const keptAsSetLocally =
      existing !== undefined &&
      sameKeyRef(existing.keyRef, profile.keyRef) &&
      existing.baseUrl === profile.baseUrl &&
      // Replicas receive the key too: only servers that user already named.
      profile.replicas.every((r) => existing.replicas.some((x) => x.baseUrl === r.baseUrl));
    if (!keptAsSetLocally) {
      try {
        profile.keyRef = await checkApiKeyRef(profile.keyRef, profile.name);
      } catch (err) {
        if (existing && sameKeyRef(existing.keyRef, profile.keyRef) && err instanceof AppError) {
          const added = profile.replicas
            .map((r) => r.baseUrl)
            .filter((u) => !existing.replicas.some((x) => x.baseUrl === u));
          if (existing.baseUrl === profile.baseUrl && added.length > 0)
            throw new AppError(
              'forbidden',
              `Endpoint "${profile.name}" sends a key that was set on the server's command line; it can only be ` +
                `sent to the servers named there. To add ${added.join(', ')} as replicas, choose the key here too, ` +
                `or add them with \`ctgi endpoints --save ${profile.name} ${added.map((u) => `--replica ${u}`).join(' ')}\`.`,
            );
          throw new AppError(
            'forbidden',
            `Endpoint "${profile.name}" sends a key that was set on the server's command line; it can only be ` +
              `sent to ${existing.baseUrl}. To use ${profile.baseUrl}, choose its key here too, or change the URL ` +
              `with \`ctgi endpoints --save ${profile.name} --base-url ${profile.baseUrl}\`.`,
          );
        }
        throw err;
      }
    }
  }
  if (apiKey !== undefined) {
    if (profile.keyRef.kind !== 'safe-storage') {
      throw badRequest(
        'A key can only be entered for secure storage; for an environment variable or key file, put the key there.',
      );
    }
    await keyStore.set(profile.keyRef.id, apiKey);
  }
  return upsertEndpoint(db, profile);
}

export async function removeEndpoint(
  db: WritableDb,
  name: string,
  keyStore: KeyStore,
): Promise<{ deleted: boolean }> {
  const e = getEndpointByName(db, name);
  if (!e) return { deleted: false };
  deleteEndpoint(db, name);
  if (e.keyRef.kind === 'safe-storage' && keyStore.available) await keyStore.delete(e.keyRef.id);
  return { deleted: true };
}

export function requireEndpoint(db: WritableDb, name: string): LlmEndpoint {
  const e = getEndpointByName(db, name);
  if (!e) throw notFound(`Endpoint "${name}" (see \`ctgi endpoints\` for the saved ones)`);
  return e;
}

export function probeEndpointByName(
  db: WritableDb,
  name: string,
  keyStore: KeyStore,
  runtime: LlmRuntime,
): Promise<EndpointProbe> {
  return probeEndpoint(db, requireEndpoint(db, name), keyStore, { runtime });
}

/**
 * Each server of an endpoint: calls, errors, latency and tokens from the calls log (every process's), and
 * health and load from this workspace's pool when it has one (a workspace that has not called or probed
 * the endpoint since it was opened cannot say; `ctgi endpoints --probe` asks every server).
 */
export function endpointReplicas(db: WritableDb, name: string, runtime: LlmRuntime): ReplicaFigures[] {
  const e = requireEndpoint(db, name);
  const logged = new Map(replicaUsage(db, e.id).map((r) => [r.replica, r]));
  const live = new Map((runtime.existingPool(endpointKey(e))?.states() ?? []).map((s) => [s.baseUrl, s]));
  return replicasOf(e).map((r) => {
    const l = logged.get(r.baseUrl);
    const s = live.get(r.baseUrl);
    return {
      baseUrl: r.baseUrl,
      concurrency: r.concurrency,
      healthy: s ? s.healthy : null,
      inFlight: s?.inFlight ?? 0,
      calls: l?.calls ?? 0,
      errors: l?.errors ?? 0,
      meanLatencyMs: l?.mean_latency_ms ?? null,
      promptTokens: l?.prompt_tokens ?? 0,
      completionTokens: l?.completion_tokens ?? 0,
      lastError: s?.lastError ?? null,
      lastCallAt: l?.last_at ?? null,
    };
  });
}

/** The default endpoint for a role: the named one, else the first saved one whose role fits. */
export function pickEndpoint(
  db: WritableDb,
  name: string | undefined,
  role: 'vqa' | 'reconstructor',
): LlmEndpoint {
  if (name !== undefined) {
    const e = getEndpointByName(db, name);
    if (!e)
      throw notFound(
        `Endpoint "${name}" (see \`ctgi endpoints\` or Settings → Endpoints for the saved ones)`,
      );
    return e;
  }
  const all = listEndpoints(db);
  const e = all.find((x) => x.role === role) ?? all.find((x) => x.role === 'both');
  if (!e) {
    throw new AppError(
      'bad_request',
      `MTI needs an MLLM endpoint (${role === 'vqa' ? 'a vision model' : 'a text model'}). Add one in Settings → Endpoints or with \`ctgi endpoints add\`, then search again.`,
    );
  }
  return e;
}

/** The aggregation endpoint: the named one, else the VQA endpoint when it also writes text, else the first fitting one. */
export function aggregatorFor(
  db: WritableDb,
  vqa: LlmEndpoint,
  name: string | undefined,
  role: 'reconstructor',
): LlmEndpoint {
  if (name === undefined && vqa.role === 'both') return vqa;
  return pickEndpoint(db, name, role);
}

/** MTI's two endpoints (VQA and aggregation) by name or by default role. */
export function mtiEndpoints(
  db: WritableDb,
  vqaName: string | undefined,
  aggregatorName: string | undefined,
): { vqa: LlmEndpoint; aggregator: LlmEndpoint } {
  const vqa = pickEndpoint(db, vqaName, 'vqa');
  return { vqa, aggregator: aggregatorFor(db, vqa, aggregatorName, 'reconstructor') };
}

/** Clients for MTI's endpoints: one client when both are the same endpoint (one cache, one limit). */
export function mtiClients(
  db: WritableDb,
  eps: { vqa: LlmEndpoint; aggregator: LlmEndpoint },
  keyStore: KeyStore,
  opts?: LlmClientOptions,
): { vqa: LlmClient; aggregator: LlmClient } {
  const vqa = createLlmClient(db, eps.vqa, keyStore, opts);
  const aggregator =
    eps.aggregator.name === eps.vqa.name ? vqa : createLlmClient(db, eps.aggregator, keyStore, opts);
  return { vqa, aggregator };
}
