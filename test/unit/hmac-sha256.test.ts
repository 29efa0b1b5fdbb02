// The page's synchronous SHA-256/HMAC must give exactly what node:crypto gives, or no signed media URL
// would ever be accepted.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64url, hmacSha256, sha256 } from '#shared/hmac-sha256';
import {
  MEDIA_URL_MAX_LEAD_S,
  MEDIA_URL_STEP_S,
  mediaKeyFor,
  mediaUrlExpiry,
  signMediaPath,
  signedMediaUrl,
} from '#shared/media-url';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sha256 and hmacSha256', () => {
  it('match node:crypto for every length around the block boundaries', () => {
    for (let n = 0; n < 300; n++) {
      const m = randomBytes(n);
      expect(hex(sha256(m)), `length ${n}`).toBe(createHash('sha256').update(m).digest('hex'));
    }
    expect(hex(sha256(bytes('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('gives the RFC 4231 HMAC-SHA256 test vectors, and matches node:crypto for long keys', () => {
    expect(hex(hmacSha256(new Uint8Array(20).fill(0x0b), bytes('Hi There')))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hex(hmacSha256(bytes('Jefe'), bytes('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    // Test case 6: a key longer than the block is hashed first.
    expect(
      hex(
        hmacSha256(
          new Uint8Array(131).fill(0xaa),
          bytes('Test Using Larger Than Block-Size Key - Hash Key First'),
        ),
      ),
    ).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
    for (const keyLength of [0, 1, 63, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      const msg = randomBytes(97);
      expect(hex(hmacSha256(key, msg))).toBe(createHmac('sha256', key).update(msg).digest('hex'));
    }
  });

  it('writes base64url as Buffer does', () => {
    for (let n = 0; n < 40; n++) {
      const b = randomBytes(n);
      expect(base64url(b)).toBe(b.toString('base64url'));
    }
  });
});

describe('signed media URLs', () => {
  it('derive their key from the token and sign path and expiry together', () => {
    const token = 'a-session-token';
    const key = mediaKeyFor(token);
    expect(hex(key)).toBe(createHmac('sha256', token).update('ctgi media url v1').digest('hex'));
    const url = signedMediaUrl(key, 7, 'thumb', 1_700_000_123_000);
    const exp = mediaUrlExpiry(1_700_000_123_000);
    expect(url).toBe(
      `/media/images/7/thumb?exp=${exp}&sig=${signMediaPath(key, '/media/images/7/thumb', exp)}`,
    );
    expect(signMediaPath(key, '/media/images/7/full', exp)).not.toBe(
      signMediaPath(key, '/media/images/7/thumb', exp),
    );
    expect(signMediaPath(mediaKeyFor('another-token'), '/media/images/7/thumb', exp)).not.toBe(
      signMediaPath(key, '/media/images/7/thumb', exp),
    );
  });

  it('expire between one and two steps ahead, well inside what the server accepts', () => {
    for (const now of [0, 1, 599_999, 600_000, 1_700_000_123_456]) {
      const lead = mediaUrlExpiry(now) - now / 1000;
      expect(lead).toBeGreaterThan(MEDIA_URL_STEP_S);
      expect(lead).toBeLessThanOrEqual(2 * MEDIA_URL_STEP_S);
      expect(lead).toBeLessThan(MEDIA_URL_MAX_LEAD_S);
    }
    // One URL per image for a whole step, so the browser's cache works.
    expect(mediaUrlExpiry(600_000)).toBe(mediaUrlExpiry(1_199_999));
  });
});
