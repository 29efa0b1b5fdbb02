import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEncryptedKeyStore, type StringCipher } from '../../src/main/llm/encrypted-key-store';

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
});
