import type { IncomingMessage } from 'node:http';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '#shared/contract';
import {
  foreignOrigin,
  HTTP_ROUTES,
  isLoopbackHost,
  newToken,
  routeFor,
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

describe('foreignOrigin', () => {
  const req = (headers: Record<string, string>): IncomingMessage =>
    ({ headers: { host: '127.0.0.1:4000', ...headers } }) as unknown as IncomingMessage;

  it("lets the app's own page and non-browser clients through", () => {
    expect(foreignOrigin(req({}))).toBeNull();
    expect(
      foreignOrigin(req({ origin: 'http://127.0.0.1:4000', 'sec-fetch-site': 'same-origin' })),
    ).toBeNull();
    expect(foreignOrigin(req({ 'sec-fetch-site': 'none' }))).toBeNull();
  });

  it('refuses other origins, other ports of this host, opaque origins and cross-site fetches', () => {
    const foreign: Record<string, string>[] = [
      { origin: 'http://127.0.0.1:4001' },
      { origin: 'http://localhost:4000' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: '' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:4000' },
    ];
    for (const headers of foreign) {
      expect(foreignOrigin(req(headers)), JSON.stringify(headers)).not.toBeNull();
    }
  });
});

describe('HTTP_ROUTES', () => {
  it('sends every path to exactly the route that guards it, the public web interface last', () => {
    expect(routeFor('/api/events').name).toBe('events');
    expect(routeFor('/api/library:stats').name).toBe('api');
    expect(routeFor('/api/').name).toBe('api');
    expect(routeFor('/media/images/1/thumb').name).toBe('media');
    expect(routeFor('/media/../api/x').name).toBe('media');
    expect(routeFor('/').name).toBe('static');
    expect(routeFor('/apix').name).toBe('static');
    expect(HTTP_ROUTES.at(-1)!.access).toBe('public');
    expect(HTTP_ROUTES.filter((r) => r.access === 'public').map((r) => r.name)).toEqual(['static']);
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
    expect(STATUS_BY_CODE.forbidden).toBe(403);
    expect(STATUS_BY_CODE.unavailable).toBe(503);
  });
});
