import { readFile, stat } from 'node:fs/promises';
import type { KeyRef } from '../../shared/domain';
import { AppError } from '../errors';

/**
 * Secret storage for API keys entered in the app. The Electron shell plugs in one backed by
 * `safeStorage` (OS keychain) with `setKeyStore`; core code only sees this interface, so it never
 * imports electron. Ids are opaque, chosen by the caller (the endpoint name is a good one).
 */
export interface KeyStore {
  /** False where no secure storage exists (CLI, headless server): callers then point at env or file. */
  readonly available: boolean;
  get(id: string): Promise<string | null>;
  set(id: string, secret: string): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Outside the desktop app there is no keychain to keep secrets in. */
export const unavailableKeyStore: KeyStore = {
  available: false,
  get: () => Promise.resolve(null),
  set: () => Promise.reject(noSafeStorage()),
  delete: () => Promise.resolve(),
};

function noSafeStorage(): AppError {
  return new AppError(
    'unavailable',
    'Secure key storage is only available in the desktop app. Here, keep the key in an environment variable ' +
      'or in a file readable only by you (chmod 600), and point the endpoint at it.',
  );
}

let current: KeyStore = unavailableKeyStore;
export const getKeyStore = (): KeyStore => current;
/** Called once by the Electron shell at start. */
export function setKeyStore(store: KeyStore): void {
  current = store;
}

/**
 * The API key an endpoint's reference points at, or null for `none`. Throws an AppError that says how
 * to fix a missing or unsafe key; the message names where the key should be, never its value.
 */
export async function resolveApiKey(
  ref: KeyRef,
  store: KeyStore,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | null> {
  switch (ref.kind) {
    case 'none':
      return null;
    case 'env': {
      const v = env[ref.name]?.trim();
      if (!v) {
        throw new AppError(
          'unauthorized',
          `The API key is read from the environment variable ${ref.name}, which is not set. Set it before starting CTGI Studio.`,
        );
      }
      return v;
    }
    case 'file': {
      let mode: number;
      try {
        mode = (await stat(ref.path)).mode;
      } catch {
        throw new AppError(
          'unauthorized',
          `The API key file ${ref.path} cannot be read. Check the path in the endpoint's settings.`,
        );
      }
      // Group/other bits set: another user could read the key. Windows has no such bits to check.
      if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
        throw new AppError(
          'unauthorized',
          `The API key file ${ref.path} is readable by other users (mode ${(mode & 0o777).toString(8)}). ` +
            `Run: chmod 600 ${ref.path}`,
        );
      }
      const v = (await readFile(ref.path, 'utf8')).trim();
      if (!v)
        throw new AppError(
          'unauthorized',
          `The API key file ${ref.path} is empty. Put the key in it (one line).`,
        );
      return v;
    }
    case 'safe-storage': {
      if (!store.available) throw noSafeStorage();
      const v = await store.get(ref.id);
      if (!v)
        throw new AppError(
          'unauthorized',
          `No API key is stored for "${ref.id}". Enter it again in the endpoint's settings.`,
        );
      return v;
    }
  }
}

/** Where the key is, in words, for "check the key in …" messages. */
export function describeKeyRef(ref: KeyRef): string {
  switch (ref.kind) {
    case 'env':
      return `the environment variable ${ref.name}`;
    case 'file':
      return `the file ${ref.path}`;
    case 'safe-storage':
      return `the key stored in the app for "${ref.id}"`;
    case 'none':
      return 'the endpoint settings (no key is configured; this server wants one)';
  }
}
