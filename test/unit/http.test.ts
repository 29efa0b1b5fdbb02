import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/shared/contract';
import {
  isLoopbackHost,
  newToken,
  readCookie,
  STATUS_BY_CODE,
  staticFileFor,
  tokensEqual,
} from '../../src/main/api/http';

describe('tokens', () => {
  it('are 32 URL-safe characters and differ every time', () => {
    const a = newToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newToken()).not.toBe(a);
  });

  it('compare equal only when identical, whatever the lengths', () => {
    const t = newToken();
    expect(tokensEqual(t, t)).toBe(true);
    expect(tokensEqual(t.slice(0, -1), t)).toBe(false);
    expect(tokensEqual(`${t}a`, t)).toBe(false);
    expect(tokensEqual('', t)).toBe(false);
  });
});

describe('readCookie', () => {
  it('finds one cookie by exact name among others', () => {
    const header = 'theme=dark; ctgi_token_4000=abc; ctgi_token_40001=zzz';
    expect(readCookie(header, 'ctgi_token_4000')).toBe('abc');
    expect(readCookie(header, 'ctgi_token_40001')).toBe('zzz');
    expect(readCookie(header, 'ctgi_token')).toBeUndefined();
    expect(readCookie(undefined, 'x')).toBeUndefined();
  });
});

describe('staticFileFor', () => {
  const root = resolve('/srv/web');

  it('maps URL paths into the folder, the root to index.html', () => {
    expect(staticFileFor(root, '/')).toBe(join(root, 'index.html'));
    expect(staticFileFor(root, '/assets/index-ABC.js')).toBe(join(root, 'assets', 'index-ABC.js'));
    expect(staticFileFor(root, '/a%20b.png')).toBe(join(root, 'a b.png'));
  });

  it('refuses anything that could leave the folder or reach hidden files', () => {
    for (const p of [
      '/..',
      '/../etc/passwd',
      '/..%2fetc%2fpasswd',
      '/a/..%5c..%5cx',
      '/%00',
      '/.env',
      '/assets/.git/config',
      '/%E0%A4%A',
    ]) {
      expect(staticFileFor(root, p), p).toBeNull();
    }
  });
});

describe('hosts and status codes', () => {
  it('treats only loopback addresses as private', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('gives every error code a 4xx or 5xx status', () => {
    for (const code of ERROR_CODES) expect(STATUS_BY_CODE[code]).toBeGreaterThanOrEqual(400);
    expect(STATUS_BY_CODE.bad_request).toBe(400);
    expect(STATUS_BY_CODE.not_found).toBe(404);
    expect(STATUS_BY_CODE.conflict).toBe(409);
    expect(STATUS_BY_CODE.unavailable).toBe(503);
  });
});
