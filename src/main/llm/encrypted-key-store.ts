import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { KeyStore } from './keys';

/** What the store needs of a cipher: Electron's `safeStorage` fits it (OS keychain-backed). */
export interface StringCipher {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/**
 * API keys entered in the desktop app, encrypted by the OS keychain's key and kept in one 0600 file
 * beside the app's data (never in a workspace, which users share and copy). Writes are atomic, so a
 * crash leaves the previous file whole.
 */
export function createEncryptedKeyStore(file: string, cipher: StringCipher): KeyStore {
  const read = (): Record<string, string> =>
    existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
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
  };
}
