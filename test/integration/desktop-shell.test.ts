// The Electron shell (src/main/desktop/shell.ts) against a STAND-IN for the `electron` module: no Electron
// binary can run on the build machines, so these tests check the wiring — what the shell asks of Electron
// (window settings, handlers, protocols) and what its handlers answer — not Electron's own behaviour. The
// handlers run for real: the renderer protocol reads real files (and refuses a real symlink), IPC reaches
// a real workspace (SQLite with the Node build of better-sqlite3 passed as the "Electron" binding).
import { EventEmitter } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC_INVOKE, MEDIA_PROTOCOL } from '#shared/bridge';
import { createDesktop, nativeBinding, type DesktopElectron } from '../../src/main/desktop/shell';
import { APP_ENTRY, externalLinkToOpen, isTrustedSender, rendererFile } from '../../src/main/desktop/policy';

const require = createRequire(import.meta.url);
const NODE_BINDING = join(
  dirname(require.resolve('better-sqlite3/package.json')),
  'build',
  'Release',
  'better_sqlite3.node',
);

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ctgi-shell-')));
// A stand-in build: out/main (the bundle's folder), out/renderer with a page, an asset, and a link out.
const mainDir = join(dir, 'out', 'main');
const rendererDir = join(dir, 'out', 'renderer');
const secret = join(dir, 'secret.txt');

beforeAll(() => {
  mkdirSync(mainDir, { recursive: true });
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>CTGI Studio</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(secret, 'not for the renderer');
  symlinkSync(secret, join(rendererDir, 'assets', 'leak.js'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Frame {
  url: string;
  processId: number;
  routingId: number;
  parent: Frame | null;
}

/** Records every call the shell makes; enough of Electron's surface for shell.ts and api/ipc.ts. */
function standInElectron(opts: { packaged?: boolean } = {}) {
  const calls = {
    schemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
    sandboxEnabled: false,
    protocolHandlers: new Map<string, (req: Request) => Promise<Response> | Response>(),
    ipcHandlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
    permissionRequest: null as null | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
    permissionCheck: null as null | ((...a: unknown[]) => boolean),
    devicePermission: null as null | ((...a: unknown[]) => boolean),
    windows: [] as StandInWindow[],
    opened: [] as string[],
    errors: [] as string[],
    exitCode: null as number | null,
  };
  const app = new EventEmitter() as EventEmitter & Record<string, unknown>;
  Object.assign(app, {
    isPackaged: opts.packaged ?? false,
    whenReady: () => Promise.resolve(),
    enableSandbox: () => (calls.sandboxEnabled = true),
    getPath: (name: string) => join(dir, name),
    quit: () => app.emit('before-quit', { preventDefault() {} }),
    exit: (code: number) => (calls.exitCode = code),
  });

  class StandInContents extends EventEmitter {
    openHandler: ((d: { url: string; disposition: string }) => { action: string }) | null = null;
    readonly mainFrame: Frame = { url: APP_ENTRY, processId: 7, routingId: 1, parent: null };
    sent: unknown[][] = [];
    setWindowOpenHandler(h: (d: { url: string; disposition: string }) => { action: string }) {
      this.openHandler = h;
    }
    isDestroyed() {
      return false;
    }
    send(...args: unknown[]) {
      this.sent.push(args);
    }
  }
  class StandInWindow extends EventEmitter {
    readonly webContents = new StandInContents();
    loaded: string[] = [];
    destroyed = false;
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      super();
      calls.windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      this.webContents.mainFrame.url = url;
      return Promise.resolve();
    }
    isDestroyed() {
      return this.destroyed;
    }
    destroy() {
      this.destroyed = true;
    }
    show() {}
  }
  const electron = {
    app,
    BrowserWindow: StandInWindow,
    dialog: { showErrorBox: (title: string, message: string) => calls.errors.push(`${title}: ${message}`) },
    ipcMain: {
      handle: (channel: string, h: (event: unknown, ...args: unknown[]) => unknown) =>
        calls.ipcHandlers.set(channel, h),
      removeHandler: (channel: string) => calls.ipcHandlers.delete(channel),
    },
    // Electron's net.fetch of a file: URL, as far as the shell relies on it.
    net: { fetch: async (url: string) => new Response(readFileSync(fileURLToPath(url))) },
    protocol: {
      registerSchemesAsPrivileged: (s: typeof calls.schemes) => calls.schemes.push(...s),
      handle: (scheme: string, h: (req: Request) => Promise<Response>) =>
        calls.protocolHandlers.set(scheme, h),
      unhandle: (scheme: string) => calls.protocolHandlers.delete(scheme),
    },
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (s: string) => Buffer.from(s).reverse(),
      decryptString: (b: Buffer) => Buffer.from(b).reverse().toString(),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: typeof calls.permissionRequest) => (calls.permissionRequest = h),
        setPermissionCheckHandler: (h: typeof calls.permissionCheck) => (calls.permissionCheck = h),
        setDevicePermissionHandler: (h: typeof calls.devicePermission) => (calls.devicePermission = h),
      },
    },
    shell: { openExternal: async (url: string) => void calls.opened.push(url) },
  };
  return { electron: electron as unknown as DesktopElectron, calls, app };
}

const running: ReturnType<typeof standInElectron>[] = [];
afterEach(async () => {
  // Quitting runs the shell's before-quit: the workspace closes, then app.exit(0).
  for (const r of running.splice(0)) {
    if (r.calls.exitCode !== null) continue;
    r.app.emit('before-quit', { preventDefault() {} });
    await vi.waitFor(() => expect(r.calls.exitCode).toBe(0));
  }
});

async function startDesktop(env: Record<string, string> = {}) {
  const standIn = standInElectron();
  running.push(standIn);
  const desktop = createDesktop(standIn.electron, {
    mainDir,
    env: { CTGI_SQLITE_BINDING: NODE_BINDING, CTGI_WORKSPACE: join(dir, 'ws.sqlite'), ...env },
    argv: ['electron', '.'],
    resourcesPath: undefined,
    out: () => {},
    err: () => {},
  });
  await desktop.start();
  return standIn;
}

describe('the desktop shell, wired to a stand-in electron module', () => {
  it('registers its schemes before ready, sandboxes every renderer, and opens a hardened window', async () => {
    const { calls } = await startDesktop();
    expect(calls.schemes.map((s) => s.scheme)).toEqual(['ctgi', MEDIA_PROTOCOL]);
    expect(calls.schemes[0]!.privileges).toMatchObject({ standard: true, secure: true });
    expect(calls.sandboxEnabled).toBe(true);
    expect(calls.windows).toHaveLength(1);
    const win = calls.windows[0]!;
    expect(win.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
    // The sandboxed preload is the CommonJS build, and the page comes from the app scheme, not file://.
    expect(win.options.webPreferences.preload).toBe(join(dir, 'out', 'preload', 'index.cjs'));
    expect(win.loaded).toEqual(['ctgi://app/index.html']);
    // The workspace's key store lives in userData, sealed by safeStorage: it stores a key (a file there),
    // where the CLI's workspace, without one, refuses.
    mkdirSync(join(dir, 'userData'), { recursive: true }); // Electron makes it; the stand-in does not
    const invoke = calls.ipcHandlers.get(IPC_INVOKE)!;
    const own = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    const saved = await invoke(own, 'endpoints:save', {
      name: 'sealed',
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'm',
      role: 'both',
      temperature: 0,
      maxTokens: 16,
      concurrency: 1,
      requestsPerMinute: null,
      timeoutMs: 1000,
      keyRef: { kind: 'safe-storage', id: 'sealed' },
      apiKey: 'sk-sealed-0123456789',
    });
    expect(saved, JSON.stringify(saved)).toMatchObject({ ok: true });
    expect(readFileSync(join(dir, 'userData', 'api-keys.json'), 'utf8')).not.toContain('sk-sealed');
    expect(existsSync(join(dir, 'userData', 'api-keys.json'))).toBe(true);
  });

  it('denies every permission request and check', async () => {
    const { calls } = await startDesktop();
    const answers: boolean[] = [];
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal'])
      calls.permissionRequest!({}, p, (ok) => answers.push(ok));
    expect(answers).toEqual([false, false, false, false, false]);
    expect(calls.permissionCheck!({}, 'media', 'ctgi://app', {})).toBe(false);
    expect(calls.devicePermission!({ deviceType: 'usb' })).toBe(false);
  });

  it('keeps the window on its own pages: a navigation or redirect elsewhere is prevented', async () => {
    const { calls } = await startDesktop();
    const wc = calls.windows[0]!.webContents;
    const attempt = (event: string, url: string): boolean => {
      let prevented = false;
      wc.emit(event, { url, preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(attempt('will-navigate', 'https://evil.example/phish')).toBe(true);
    expect(attempt('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(attempt('will-redirect', 'http://127.0.0.1:9999/')).toBe(true);
    expect(attempt('will-navigate', 'ctgi://app/index.html#/jobs')).toBe(false);
    let webview = false;
    wc.emit('will-attach-webview', { preventDefault: () => (webview = true) });
    expect(webview).toBe(true);
  });

  it('opens no windows; only an http(s) link the user clicked goes to the system browser', async () => {
    const { calls } = await startDesktop();
    const open = calls.windows[0]!.webContents.openHandler!;
    const tries = [
      { url: 'https://github.com/ctgi', disposition: 'foreground-tab' },
      { url: 'http://example.org/a', disposition: 'background-tab' },
      { url: 'https://example.org/popup', disposition: 'new-window' },
      { url: 'file:///etc/passwd', disposition: 'foreground-tab' },
      { url: 'javascript:alert(1)', disposition: 'foreground-tab' },
      { url: 'ctgi-media://image/1/full', disposition: 'foreground-tab' },
    ];
    expect(tries.map((t) => open(t).action)).toEqual(Array(6).fill('deny'));
    await Promise.resolve();
    expect(calls.opened).toEqual(['https://github.com/ctgi', 'http://example.org/a']);
  });

  it('answers IPC only from its own window’s top frame on the app’s own page', async () => {
    const { calls } = await startDesktop();
    const win = calls.windows[0]!;
    const invoke = calls.ipcHandlers.get(IPC_INVOKE)!;
    const own = win.webContents.mainFrame;
    const ok = (await invoke({ sender: win.webContents, senderFrame: own }, 'library:stats', {})) as {
      ok: boolean;
      value?: { images: number };
    };
    expect(ok).toMatchObject({ ok: true, value: { images: 0 } });

    const refused = [
      // another webContents (a second window, a devtools page)
      { sender: {}, senderFrame: own },
      // a sub-frame of ours
      { sender: win.webContents, senderFrame: { ...own, routingId: 2, parent: own } },
      // our frame, after something made it show another page
      { sender: win.webContents, senderFrame: { ...own, url: 'https://evil.example/' } },
      { sender: win.webContents, senderFrame: null },
    ];
    for (const event of refused) {
      expect(await invoke(event, 'library:stats', {})).toMatchObject({
        ok: false,
        error: { code: 'unauthorized' },
      });
    }
  });

  it('serves the renderer from its folder only: no way out by .. or by a symbolic link', async () => {
    const { calls } = await startDesktop();
    const serve = calls.protocolHandlers.get('ctgi')!;
    const get = async (url: string) => {
      const res = await serve(new Request(url));
      return { status: res.status, body: await res.text() };
    };
    expect(await get('ctgi://app/index.html')).toMatchObject({
      status: 200,
      body: expect.stringContaining('CTGI'),
    });
    expect(await get('ctgi://app/')).toMatchObject({ status: 200 });
    expect(await get('ctgi://app/assets/app.js')).toEqual({ status: 200, body: 'console.log(1)' });
    for (const url of [
      'ctgi://app/assets/leak.js',
      'ctgi://app/%2e%2e/%2e%2e/secret.txt',
      'ctgi://app/..%2F..%2Fsecret.txt',
      'ctgi://other/index.html',
      'ctgi://app/assets',
      'ctgi://app/missing.js',
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(res.body).not.toContain('not for the renderer');
    }
  });

  it('says what to do when the Electron build of better-sqlite3 is missing, and never takes it from the environment when packaged', async () => {
    const opts = { mainDir, env: {}, argv: [], resourcesPath: join(dir, 'resources') };
    expect(nativeBinding(false, opts)).toEqual({ error: expect.stringContaining('npm start') });
    expect(nativeBinding(false, { ...opts, env: { CTGI_SQLITE_BINDING: NODE_BINDING } })).toEqual({
      path: NODE_BINDING,
    });
    const packaged = nativeBinding(true, { ...opts, env: { CTGI_SQLITE_BINDING: NODE_BINDING } });
    expect(packaged).toEqual({ error: expect.stringContaining(join(dir, 'resources', 'native')) });

    const { calls } = await startDesktop({ CTGI_SQLITE_BINDING: join(dir, 'nope.node') });
    expect(calls.windows).toHaveLength(0);
    expect(calls.exitCode).toBe(1);
    expect(calls.errors[0]).toMatch(/nope\.node, which does not exist.*npm start/);
  });
});

describe('the shell’s policy functions', () => {
  it('externalLinkToOpen takes http(s) link clicks only', () => {
    expect(externalLinkToOpen({ url: 'HTTPS://Example.org/x', disposition: 'foreground-tab' })).toBe(
      'https://example.org/x',
    );
    expect(externalLinkToOpen({ url: 'mailto:a@b.c', disposition: 'foreground-tab' })).toBeNull();
    expect(externalLinkToOpen({ url: 'https://example.org', disposition: 'other' })).toBeNull();
  });

  it('isTrustedSender accepts the dev server only when it is one of the origins', () => {
    const frame = { url: 'http://localhost:5173/', processId: 1, routingId: 1, parent: null };
    const contents = { mainFrame: frame };
    expect(isTrustedSender({ sender: contents, senderFrame: frame }, contents, ['ctgi://app'])).toBe(false);
    expect(
      isTrustedSender({ sender: contents, senderFrame: frame }, contents, [
        'ctgi://app',
        'http://localhost:5173',
      ]),
    ).toBe(true);
  });

  it('rendererFile refuses a NUL byte and a scheme other than the app’s', async () => {
    expect(await rendererFile(rendererDir, 'ctgi://app/index.html%00.js')).toBeNull();
    expect(await rendererFile(rendererDir, `file://${join(rendererDir, 'index.html')}`)).toBeNull();
    expect(await rendererFile(rendererDir, 'ctgi://app/index.html')).toBe(join(rendererDir, 'index.html'));
  });
});
