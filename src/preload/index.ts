import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Bridge } from '#shared/bridge';
import { IPC_EVENT, IPC_INVOKE } from '#shared/bridge';
import { CHANNELS, EVENT_NAMES } from '#shared/channels';
import type { EventName } from '#shared/contract';

// Only the allow-listed channels and events cross; the renderer never sees ipcRenderer or process.
const bridge: Bridge = {
  invoke: (channel, arg) => {
    if (!CHANNELS.includes(channel)) return Promise.reject(new Error(`Channel ${channel} is not allowed`));
    return ipcRenderer.invoke(IPC_INVOKE, channel, arg);
  },
  on: (event, listener) => {
    if (!EVENT_NAMES.includes(event)) throw new Error(`Event ${event} is not allowed`);
    const wrapped = (_e: IpcRendererEvent, name: EventName, payload: unknown): void => {
      if (name === event) (listener as (p: unknown) => void)(payload);
    };
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => ipcRenderer.off(IPC_EVENT, wrapped);
  },
};

contextBridge.exposeInMainWorld('ctgi', bridge);
