import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { KeyRef } from '#shared/llm/types';
import { configFolder } from '../config';
import { AppError } from '../errors';

/**
 * Secret storage for API keys entered in the app. The Electron shell plugs in one backed by
 * `safeStorage` (OS keychain) when it opens the workspace (`openWorkspace(file, { keyStore })`, then
 * `ws.services.keys`); core code only sees this interface, so it never
 * imports electron. Ids are opaque, chosen by the caller (the endpoint name is a good one).
 */
export interface KeyStore {
  /** False where no secure storage exists (CLI, headless server): callers then point at env or file. */
  readonly available: boolean;
  get(id: string): Promise<string | null>;
  set(id: string, secret: string): Promise<void>;
  delete(id: string): Promise<void>;
  /**
   * Starts an empty store, keeping the old file aside (for a store whose file is damaged); returns
   * where the old file went, or null when there was none. Absent where nothing is stored.
   */
  reset?(): Promise<string | null>;
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
      `whose name starts with ${API_KEY_ENV_PREFIX}, or in a file in CTGI's key folder ${keyFolder()} readable ` +
      'only by you (chmod 600), and point the endpoint at it.',
  );
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

/**
 * Environment variables the API may name as a key: only those the user exported for CTGI on purpose.
 * Not even OPENAI_API_KEY: it sits in many shells for other tools, and the user who starts `ctgi serve`
 * need not know that the server inherits it. The local CLI may name any variable.
 */
export const API_KEY_ENV_PREFIX = 'CTGI_KEY_';

/**
 * The app's key folder: key files the API may point at live here. `$CTGI_KEY_DIR`, else `keys/` in the
 * machine's settings folder (`~/.config/ctgi/keys`). Not beside a workspace: workspaces are shared.
 */
export function keyFolder(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CTGI_KEY_DIR) return resolve(env.CTGI_KEY_DIR);
  return join(configFolder(env), 'keys');
}

const inside = (root: string, p: string): boolean => {
  const back = relative(root, p);
  return back !== '' && !back.startsWith('..') && !isAbsolute(back);
};

/**
 * Issue 12.8: a key reference set over the API (HTTP or the renderer's IPC) may only name what the user
 * set up for keys: the encrypted key store, a `CTGI_KEY_*` variable, or a file whose real path is in the
 * key folder. Otherwise a token holder could send any host secret (a 0600 file, AWS_SECRET_ACCESS_KEY) as
 * a Bearer header to a URL of their choosing. Returns the reference to store (a bare file name becomes
 * its full path in the key folder); throws a `forbidden` AppError that says how to set it locally.
 */
export async function checkApiKeyRef(
  ref: KeyRef,
  endpointName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeyRef> {
  const local = `set it on the machine running CTGI Studio with \`ctgi endpoints --save ${endpointName}\``;
  switch (ref.kind) {
    case 'none':
    case 'safe-storage':
      return ref;
    case 'env':
      if (ref.name.startsWith(API_KEY_ENV_PREFIX) && ref.name.length > API_KEY_ENV_PREFIX.length) return ref;
      throw new AppError(
        'forbidden',
        `From here, an API key may only come from an environment variable whose name starts with ${API_KEY_ENV_PREFIX} ` +
          `(for example ${API_KEY_ENV_PREFIX}OPENAI, exported before CTGI starts). To use ${ref.name}, ${local} --key-env ${ref.name}\`.`,
      );
    case 'file': {
      const folder = keyFolder(env);
      const path = resolve(folder, ref.path);
      const [realFolder, realFile] = await Promise.all([
        realpath(folder).catch(() => null),
        realpath(path).catch(() => null),
      ]);
      if (realFolder !== null && realFile !== null && inside(realFolder, realFile))
        return { kind: 'file', path };
      throw new AppError(
        'forbidden',
        `From here, a key file must be a file in CTGI's key folder ${folder} (a link out of it does not count)` +
          `${realFile === null ? `, and ${path} does not exist` : ''}. Put the key there (chmod 600), or ${local} --key-file ${ref.path}\`.`,
      );
    }
  }
}
