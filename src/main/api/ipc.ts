import type { IpcMain, IpcMainInvokeEvent, Protocol, WebContents } from 'electron';
import type { ApiResult } from '#shared/contract';
import { IPC_EVENT, IPC_INVOKE, MEDIA_PROTOCOL } from '#shared/bridge';
import { EVENT_NAMES } from '#shared/channels';
import { mediaResponse } from '../media/serve';
import type { Workspace } from '../workspace';
import { dispatch, type Handlers } from './handlers';

/** The two Electron modules the transport uses, passed in so that tests can stand in for them. */
export interface IpcElectron {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  protocol: Pick<Protocol, 'handle' | 'unhandle'>;
}

const REFUSED: ApiResult<never> = {
  ok: false,
  error: { code: 'unauthorized', message: 'Refused: the call did not come from the CTGI Studio window.' },
};

/**
 * Electron transport: one invoke channel validated by `dispatch`, events forwarded to the window. Calls
 * that `trusted` rejects (another frame or page than the app's own) are answered with `unauthorized`.
 */
export function wireIpc(
  electron: IpcElectron,
  ws: Workspace,
  handlers: Handlers,
  target: () => WebContents | null,
  trusted: (event: IpcMainInvokeEvent) => boolean,
): () => void {
  const { ipcMain, protocol } = electron;
  ipcMain.handle(IPC_INVOKE, (event, channel: unknown, arg: unknown) =>
    trusted(event) ? dispatch(handlers, String(channel), arg) : REFUSED,
  );
  const offs = EVENT_NAMES.map((name) =>
    ws.bus.on(name, (payload) => {
      const wc = target();
      if (wc && !wc.isDestroyed()) wc.send(IPC_EVENT, name, payload);
    }),
  );
  protocol.handle(MEDIA_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    // ctgi-media://image/<id>/<variant>
    const [id, variant] = url.pathname.replace(/^\/+/, '').split('/');
    const res = await mediaResponse(ws, url.hostname === 'image' ? Number(id) : NaN, variant ?? 'full');
    return new Response(new Uint8Array(res.body), { status: res.status, headers: res.headers });
  });
  return () => {
    ipcMain.removeHandler(IPC_INVOKE);
    protocol.unhandle(MEDIA_PROTOCOL);
    for (const off of offs) off();
  };
}
