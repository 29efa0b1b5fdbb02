// The desktop window's security decisions, as plain functions of URLs, frames and paths: shell.ts wires
// them into Electron, and test/unit/desktop-shell.test.ts checks them (and the wiring) without Electron.
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';

/** The renderer is served from this privileged scheme (never file://): `ctgi://app/index.html`. */
export const APP_SCHEME = 'ctgi';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** `scheme://host` of a URL (WHATWG gives custom schemes the origin "null", so it is built by hand). */
function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
}

/** The origins the window may show: the app scheme, plus electron-vite's dev server when one runs. */
export function appOrigins(devServerUrl: string | undefined): string[] {
  const dev = devServerUrl ? originOf(devServerUrl) : null;
  return dev ? [APP_ORIGIN, dev] : [APP_ORIGIN];
}

export function isAppUrl(url: string, origins: readonly string[]): boolean {
  const origin = originOf(url);
  return origin !== null && origins.includes(origin);
}

/**
 * The URL to hand to the system browser for a window-open request, or null to drop it. Only http(s),
 * and only with the dispositions Chromium gives a click on a link (a `target="_blank"` link, or a
 * middle/Ctrl-click); `window.open(url, name, features)` from script comes as 'new-window' and is dropped.
 */
export function externalLinkToOpen(details: { url: string; disposition: string }): string | null {
  if (details.disposition !== 'foreground-tab' && details.disposition !== 'background-tab') return null;
  try {
    const u = new URL(details.url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** What the shell knows of an IPC message's origin (a subset of Electron's IpcMainInvokeEvent). */
export interface IpcSender {
  sender: unknown;
  senderFrame: { url: string; processId: number; routingId: number; parent: unknown } | null;
}

/** The window's contents and its top frame, as the IPC check needs them. */
export interface TrustedContents {
  mainFrame: { processId: number; routingId: number };
}

/**
 * Whether an IPC call comes from our window's own top frame showing our own page: not from another
 * webContents, not from a sub-frame, not from a page that somehow navigated elsewhere.
 */
export function isTrustedSender(
  event: IpcSender,
  contents: TrustedContents | null,
  origins: readonly string[],
): boolean {
  const frame = event.senderFrame;
  if (contents === null || event.sender !== contents || frame === null) return false;
  if (frame.parent !== null) return false;
  if (frame.processId !== contents.mainFrame.processId || frame.routingId !== contents.mainFrame.routingId)
    return false;
  return isAppUrl(frame.url, origins);
}

/**
 * The file under `root` that an app-scheme URL names, or null: another scheme or host, a path that
 * leaves `root` (`..`, encoded or not), a symbolic link that leads out, or anything but a regular file.
 */
export async function rendererFile(root: string, url: string): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  if (path === '/' || path === '') path = '/index.html';
  try {
    const realRoot = await realpath(root);
    // Resolving links first is what keeps a link inside out/renderer from serving a file outside it.
    const real = await realpath(`${realRoot}${sep}${path.replace(/^[/\\]+/, '')}`);
    if (!real.startsWith(realRoot + sep)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** Every permission a page may ask for (camera, notifications, geolocation, …) is refused: the app needs none. */
export const denyPermission = (
  _contents: unknown,
  _permission: string,
  callback: (granted: boolean) => void,
): void => callback(false);
