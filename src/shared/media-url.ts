// Signed media URLs for the browser under `ctgi serve` (issue 12.9). An <img> cannot send the token
// header, and a cookie would reach every other server on the same host (cookies ignore ports). So each
// image URL carries an expiry and an HMAC of its path and expiry, under a key derived from the session
// token: the key changes with every server run (a fresh token), a URL opens one image variant for at most
// MEDIA_URL_MAX_LEAD_S, and it never holds the token itself. The page and the server both sign with this
// file, so the two cannot drift apart.
import type { ImageVariant } from './contract';
import { base64url, hmacSha256 } from './hmac-sha256';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const MEDIA_KEY_LABEL = 'ctgi media url v1';
/**
 * The page rounds expiries to this step so that one image keeps one URL for a while (the browser's
 * cache is keyed by URL); a fresh URL then lives between one and two steps.
 */
export const MEDIA_URL_STEP_S = 600;
/** The server refuses expiries further ahead than this: no long-lived links, whoever signed them. */
export const MEDIA_URL_MAX_LEAD_S = 1800;

export const mediaPath = (id: number, variant: ImageVariant): string => `/media/images/${id}/${variant}`;

/** The expiry (Unix seconds) the page puts in a URL made at `nowMs` (the server's clock). */
export const mediaUrlExpiry = (nowMs: number): number =>
  (Math.floor(nowMs / 1000 / MEDIA_URL_STEP_S) + 2) * MEDIA_URL_STEP_S;

/** The signing key for one session token. */
export const mediaKeyFor = (token: string): Uint8Array => hmacSha256(utf8(token), utf8(MEDIA_KEY_LABEL));

/** The signature of `path` until `exp`; a newline cannot occur in a path, so no two inputs collide. */
export const signMediaPath = (key: Uint8Array, path: string, exp: number): string =>
  base64url(hmacSha256(key, utf8(`${path}\n${exp}`)));

export function signedMediaUrl(key: Uint8Array, id: number, variant: ImageVariant, nowMs: number): string {
  const path = mediaPath(id, variant);
  const exp = mediaUrlExpiry(nowMs);
  return `${path}?exp=${exp}&sig=${signMediaPath(key, path, exp)}`;
}
