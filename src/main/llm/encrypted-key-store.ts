import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors';
import type { KeyStore } from './keys';

/** What the store needs of a cipher: Electron's `safeStorage` fits it (OS keychain-backed). */
export interface StringCipher {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export const KEY_STORE_FILE_NAME = 'api-keys.json';
/** package.json's productName, which Electron names the userData folder after. */
const APP_NAME = 'CTGI Studio';

/**
 * Where the desktop app keeps its key store: Electron's `userData` folder, named after package.json's
 * productName ("CTGI Studio"), in `$XDG_CONFIG_HOME` or `~/.config` on Linux, `~/Library/Application
 * Support` on macOS and `%APPDATA%` on Windows. The CLI needs it to reset the store without Electron.
 */
export function defaultKeyStoreFile(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home = homedir(),
): string {
  const appData =
    platform === 'darwin'
      ? join(home, 'Library', 'Application Support')
      : platform === 'win32'
        ? (env.APPDATA ?? join(home, 'AppData', 'Roaming'))
        : (env.XDG_CONFIG_HOME ?? join(home, '.config'));
  return join(appData, APP_NAME, KEY_STORE_FILE_NAME);
}

const RESET_HOW =
  'Reset it (Settings → Endpoints → "Reset the app keychain", or `ctgi endpoints --reset-key-store`), then enter the keys again';

/**
 * Moves a key store file aside as `<file>.damaged-<time>` (kept, never deleted: it may still be
 * recoverable by hand) so that the next write starts an empty store. Returns where it went, or null
 * when there was no file.
 */
export function resetKeyStoreFile(file: string, now = new Date()): string | null {
  if (!existsSync(file)) return null;
  const aside = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, aside);
  return aside;
}

/**
 * API keys entered in the desktop app, encrypted by the OS keychain's key and kept in one 0600 file
 * beside the app's data (never in a workspace, which users share and copy). Writes are atomic, so a
 * crash leaves the previous file whole. A file that cannot be read as the store (cut short, edited,
 * overwritten) is reported with its path and the way to reset it — on every get, set and delete, so
 * no write ever replaces the damaged file silently.
 */
export function createEncryptedKeyStore(file: string, cipher: StringCipher): KeyStore {
  const read = (): Record<string, string> => {
    if (!existsSync(file)) return {};
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      const why = err instanceof SyntaxError ? `not valid JSON: ${err.message}` : String(err);
      throw new AppError(
        'unavailable',
        `The app keychain file ${file} is damaged (${why}), so no stored API key can be read. ${RESET_HOW}.`,
      );
    }
    const ok =
      typeof data === 'object' &&
      data !== null &&
      !Array.isArray(data) &&
      Object.values(data).every((v) => typeof v === 'string');
    if (!ok) {
      throw new AppError(
        'unavailable',
        `The app keychain file ${file} is damaged (it is JSON, but not a map of names to sealed keys), so no stored API key can be read. ${RESET_HOW}.`,
      );
    }
    return data as Record<string, string>;
  };
  const write = (entries: Record<string, string>): void => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entries), { mode: 0o600 });
    renameSync(tmp, file);
  };
  return {
    get available() {
      return cipher.isEncryptionAvailable();
    },
    get: async (id) => {
      const sealed = read()[id];
      return sealed === undefined ? null : cipher.decryptString(Buffer.from(sealed, 'base64'));
    },
    set: async (id, secret) => {
      const entries = read();
      entries[id] = cipher.encryptString(secret).toString('base64');
      write(entries);
    },
    delete: async (id) => {
      const entries = read();
      if (!(id in entries)) return;
      delete entries[id];
      write(entries);
    },
    reset: async () => resetKeyStoreFile(file),
  };
}
