import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { AppError } from '../../src/main/errors';
import {
  createEncryptedKeyStore,
  defaultKeyStoreFile,
  type StringCipher,
} from '../../src/main/llm/encrypted-key-store';

// Stands in for Electron's safeStorage: reversible, and visibly not the plain text.
const cipher: StringCipher = {
  isEncryptionAvailable: () => true,
  encryptString: (s) => Buffer.from([...Buffer.from(s, 'utf8')].map((b) => b ^ 0x5a)),
  decryptString: (b) => Buffer.from([...b].map((x) => x ^ 0x5a)).toString('utf8'),
};

describe('encrypted key store (the desktop app’s safe storage)', () => {
  it('keeps keys encrypted in a file only the user can read, and gives them back', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ctgi-keys-')), 'keys.json');
    const store = createEncryptedKeyStore(file, cipher);
    expect(store.available).toBe(true);
    expect(await store.get('gpt4o')).toBeNull();
    await store.set('gpt4o', 'sk-secret-123');
    await store.set('qwen', 'sk-other');
    expect(readFileSync(file, 'utf8')).not.toContain('sk-secret-123');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A new store on the same file (the next app start) reads them back.
    const again = createEncryptedKeyStore(file, cipher);
    expect(await again.get('gpt4o')).toBe('sk-secret-123');
    await again.delete('gpt4o');
    expect(await again.get('gpt4o')).toBeNull();
    expect(await again.get('qwen')).toBe('sk-other');
  });

  it('reports itself unavailable when the OS offers no encryption', () => {
    const store = createEncryptedKeyStore('/nonexistent/keys.json', {
      ...cipher,
      isEncryptionAvailable: () => false,
    });
    expect(store.available).toBe(false);
  });

  it('a damaged file is reported with its path and the way to reset it, on get, set and delete alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-keys-'));
    const file = join(dir, 'api-keys.json');
    const store = createEncryptedKeyStore(file, cipher);
    await store.set('gpt4o', 'sk-secret-123');
    const good = readFileSync(file, 'utf8');
    for (const damage of [good.slice(0, good.length - 7), '{"gpt4o": 42}', '["not", "a", "map"]']) {
      writeFileSync(file, damage);
      for (const op of [
        () => store.get('gpt4o'),
        () => store.set('qwen', 'sk-2'),
        () => store.delete('gpt4o'),
      ]) {
        const err = await op().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('unavailable');
        expect((err as AppError).message).toContain(`The app keychain file ${file} is damaged`);
        expect((err as AppError).message).toMatch(/ctgi endpoints --reset-key-store/);
        expect((err as Error).name).not.toBe('SyntaxError');
      }
      // Nothing was written over the damaged file: it may still be recovered by hand.
      expect(readFileSync(file, 'utf8')).toBe(damage);
    }
    // Reset keeps the old file aside and starts empty; keys can be stored again.
    const keptAs = await store.reset!();
    expect(keptAs).toMatch(/api-keys\.json\.damaged-/);
    expect(readFileSync(keptAs!, 'utf8')).toBe('["not", "a", "map"]');
    expect(await store.get('gpt4o')).toBeNull();
    await store.set('gpt4o', 'sk-new');
    expect(await store.get('gpt4o')).toBe('sk-new');
    expect(await store.reset!()).toMatch(/damaged-/);
    expect(await store.reset!()).toBeNull();
  });

  it('ctgi endpoints --reset-key-store moves a damaged file aside without a workspace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-keys-'));
    const file = join(dir, 'api-keys.json');
    writeFileSync(file, '{"cut short');
    const out: string[] = [];
    const code = await main(['endpoints', '--reset-key-store', '--key-store', file], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(
      /Key store reset: the old file is kept as .*api-keys\.json\.damaged-.*Enter the API keys again/,
    );
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it("the CLI's default file is the desktop app's (Electron userData of CTGI Studio)", () => {
    // Electron names userData after package.json's productName: the two must not drift apart.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      productName: string;
    };
    expect(pkg.productName).toBe('CTGI Studio');
    expect(defaultKeyStoreFile({}, 'linux', '/home/u')).toBe('/home/u/.config/CTGI Studio/api-keys.json');
    expect(defaultKeyStoreFile({ XDG_CONFIG_HOME: '/x' }, 'linux', '/home/u')).toBe(
      '/x/CTGI Studio/api-keys.json',
    );
    expect(defaultKeyStoreFile({}, 'darwin', '/Users/u')).toBe(
      '/Users/u/Library/Application Support/CTGI Studio/api-keys.json',
    );
  });
});
