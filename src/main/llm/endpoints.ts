import type { ParsedArg } from '../../shared/contract';
import type { EndpointProbe, LlmEndpoint } from '../../shared/domain';
import { deleteEndpoint, getEndpointByName, upsertEndpoint } from '../db/repos/llm';
import type { Db } from '../db/types';
import { badRequest, notFound } from '../errors';
import type { KeyStore } from './keys';
import { probeEndpoint } from './probe';

/** The services behind `endpoints:*`, shared by the API handlers and `ctgi endpoints`. */
export async function saveEndpoint(
  db: Db,
  input: ParsedArg<'endpoints:save'>,
  keyStore: KeyStore,
): Promise<LlmEndpoint> {
  const { apiKey, ...profile } = input;
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
  db: Db,
  name: string,
  keyStore: KeyStore,
): Promise<{ deleted: boolean }> {
  const e = getEndpointByName(db, name);
  if (!e) return { deleted: false };
  deleteEndpoint(db, name);
  if (e.keyRef.kind === 'safe-storage' && keyStore.available) await keyStore.delete(e.keyRef.id);
  return { deleted: true };
}

export function requireEndpoint(db: Db, name: string): LlmEndpoint {
  const e = getEndpointByName(db, name);
  if (!e) throw notFound(`Endpoint "${name}" (see \`ctgi endpoints\` for the saved ones)`);
  return e;
}

export function probeEndpointByName(db: Db, name: string, keyStore: KeyStore): Promise<EndpointProbe> {
  return probeEndpoint(db, requireEndpoint(db, name), keyStore);
}
