// The Electron shell: window, security settings, the renderer's protocol, IPC and the key store. It takes
// the `electron` module as an argument instead of importing it, so that test/unit/desktop-shell.test.ts can
// run it against a stand-in (no Electron binary can run on the build machines); index.ts passes the real one.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  BrowserWindow,
  Event,
  HandlerDetails,
  WebContents,
  WebContentsWillNavigateEventParams,
} from 'electron';
import { MEDIA_PROTOCOL } from '#shared/bridge';
import type { ApiResult } from '#shared/contract';
import type { LibraryStats } from '#shared/library/types';
import { createHandlers } from '../api/handlers';
import { wireIpc } from '../api/ipc';
import { createEncryptedKeyStore } from '../llm/encrypted-key-store';
import { runSmoke } from '../smoke';
import { openWorkspace, type Workspace } from '../workspace';
import {
  APP_ENTRY,
  APP_SCHEME,
  appOrigins,
  denyPermission,
  externalLinkToOpen,
  isAppUrl,
  isTrustedSender,
  rendererFile,
} from './policy';

export type DesktopElectron = Pick<
  typeof Electron,
  'app' | 'BrowserWindow' | 'dialog' | 'ipcMain' | 'net' | 'protocol' | 'safeStorage' | 'session' | 'shell'
>;

export interface DesktopOptions {
  /** The folder of the main bundle (out/main); the preload and the renderer are built beside it. */
  mainDir: string;
  env: NodeJS.ProcessEnv;
  argv: readonly string[];
  /** Electron's `process.resourcesPath`: where a packaged app keeps the files unpacked from its archive. */
  resourcesPath: string | undefined;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Where a packaged app's Electron build of better-sqlite3 is put (electron-builder.cjs, afterPack). */
export const PACKAGED_BINDING = join('native', 'better_sqlite3.node');

/**
 * better-sqlite3's addon for Electron: inside the package in a packaged app (an environment variable
 * never picks native code there), else the build `npm start` made and named in CTGI_SQLITE_BINDING.
 */
export function nativeBinding(packaged: boolean, opts: DesktopOptions): { path: string } | { error: string } {
  if (packaged) {
    const path = join(opts.resourcesPath ?? '', PACKAGED_BINDING);
    return existsSync(path)
      ? { path }
      : { error: `This installation is incomplete: ${path} is missing. Reinstall CTGI Studio.` };
  }
  const path = opts.env.CTGI_SQLITE_BINDING;
  if (path && existsSync(path)) return { path };
  return {
    error:
      (path ? `CTGI_SQLITE_BINDING names ${path}, which does not exist. ` : '') +
      'Start the desktop app with `npm start` (or `npm run dev`): it builds better-sqlite3 for Electron first.',
  };
}

/** Security settings for every webContents the app creates (the checklist in docs, issue 12 item 11). */
function harden(
  contents: WebContents,
  origins: readonly string[],
  openExternal: (url: string) => Promise<void>,
): void {
  // Only our own pages, never a navigation elsewhere (a link, a redirect, a script setting location).
  const stay = (event: Event<WebContentsWillNavigateEventParams>): void => {
    if (!isAppUrl(event.url, origins)) event.preventDefault();
  };
  contents.on('will-navigate', stay);
  contents.on('will-redirect', stay);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // No new windows; a link the user clicked to a web page opens in the system browser.
  contents.setWindowOpenHandler((details: HandlerDetails) => {
    const url = externalLinkToOpen(details);
    if (url !== null) void openExternal(url);
    return { action: 'deny' };
  });
}

export function createDesktop(electron: DesktopElectron, opts: DesktopOptions): { start(): Promise<void> } {
  const { app, BrowserWindow, dialog, ipcMain, net, protocol, safeStorage, session, shell } = electron;
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const smoke = opts.argv.includes('--smoke') || opts.env.CTGI_SMOKE === '1';
  const devServer = !app.isPackaged ? opts.env.ELECTRON_RENDERER_URL : undefined;
  const origins = appOrigins(devServer);
  const rendererDir = join(opts.mainDir, '..', 'renderer');

  // Before 'ready': schemes are privileged only if registered now, and every renderer is sandboxed.
  protocol.registerSchemesAsPrivileged([
    // standard + secure: a real origin for 'self' in the CSP and for relative URLs; the renderer's
    // module scripts are fetched in CORS mode, hence corsEnabled and supportFetchAPI.
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
    },
    { scheme: MEDIA_PROTOCOL, privileges: { standard: true, secure: true } },
  ]);
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) =>
    harden(contents, origins, (url) => shell.openExternal(url)),
  );

  function openWindow(ws: Workspace, show: boolean): { window: BrowserWindow; unwire: () => void } {
    const window = new BrowserWindow({
      width: 1440,
      height: 900,
      show: false,
      title: 'CTGI Studio',
      webPreferences: {
        preload: join(opts.mainDir, '..', 'preload', 'index.cjs'),
        sandbox: true,
        contextIsolation: true,
        nodeIntegration: false,
        webSecurity: true,
        webviewTag: false,
        spellcheck: false,
      },
    });
    if (show) window.once('ready-to-show', () => window.show());
    const unwire = wireIpc(
      { ipcMain, protocol },
      ws,
      createHandlers(ws),
      () => (window.isDestroyed() ? null : window.webContents),
      (event) => isTrustedSender(event, window.isDestroyed() ? null : window.webContents, origins),
    );
    return { window, unwire };
  }

  function fail(title: string, message: string): void {
    err(`${title}: ${message}`);
    if (!smoke) dialog.showErrorBox(title, message);
    app.exit(1);
  }

  async function runSmokeTest(binding: string): Promise<void> {
    const dir = mkdtempSync(join(app.getPath('temp'), 'ctgi-smoke-'));
    try {
      const report = await runSmoke({
        dir,
        nativeBinding: binding,
        log: (line) => out(`smoke: ${line}`),
        // The same window, protocol, preload and IPC as the app, asked for the library's counts.
        check: async (ws) => {
          const { window, unwire } = openWindow(ws, false);
          try {
            await window.loadURL(APP_ENTRY);
            const r = (await window.webContents.executeJavaScript(
              "window.ctgi.invoke('library:stats', {})",
            )) as ApiResult<LibraryStats>;
            if (!r.ok) throw new Error(`the window's library:stats call failed: ${r.error.message}`);
            if (r.value.images !== 1) throw new Error(`the window sees ${r.value.images} images, not 1`);
            out('smoke: the window loaded the renderer and answered library:stats through the preload');
          } finally {
            unwire();
            window.destroy();
          }
        },
      });
      out(JSON.stringify({ smoke: 'ok', electron: process.versions.electron ?? null, ...report }));
      app.exit(0);
    } catch (e) {
      fail('Smoke test failed', e instanceof Error ? e.message : String(e));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function start(): Promise<void> {
    await app.whenReady();
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler(denyPermission);
    ses.setPermissionCheckHandler(() => false);
    ses.setDevicePermissionHandler(() => false);
    protocol.handle(APP_SCHEME, async (request) => {
      const file = await rendererFile(rendererDir, request.url);
      if (file === null) return new Response('Not found', { status: 404 });
      // net.fetch of the file URL streams it, from inside app.asar too, with the type of its extension.
      return net.fetch(pathToFileURL(file).href);
    });

    const binding = nativeBinding(app.isPackaged, opts);
    if ('error' in binding) return fail('CTGI Studio cannot start', binding.error);
    if (smoke) return runSmokeTest(binding.path);

    const userData = app.getPath('userData');
    // API keys typed into Settings are sealed with the OS keychain (safeStorage), never kept in a workspace.
    const keyStore = createEncryptedKeyStore(join(userData, 'api-keys.json'), safeStorage);
    let ws: Workspace;
    const file = opts.env.CTGI_WORKSPACE ?? join(userData, 'workspace.sqlite');
    try {
      ws = openWorkspace(file, { nativeBinding: binding.path, keyStore });
    } catch (e) {
      return fail(
        'CTGI Studio cannot open its workspace',
        `${file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const { window, unwire } = openWindow(ws, true);
    app.on('window-all-closed', () => app.quit());
    let quitting = false;
    app.on('before-quit', (event) => {
      if (quitting) return;
      quitting = true;
      event.preventDefault();
      unwire();
      void ws.close().finally(() => app.exit(0));
    });
    await window.loadURL(devServer ?? APP_ENTRY);
  }

  return { start };
}
