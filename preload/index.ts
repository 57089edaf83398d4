/**
 * Preload (sandboxed, CommonJS): exposes the typed API as `window.bitstable` and nothing else.
 * One named function per contract method, each on its own channel; an `on(type, cb)` that hands
 * the callback only the payload (never the IPC event, whose `sender` is ipcRenderer itself); and
 * the shell's status and update calls. No raw ipcRenderer reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createBridge } from './bridge';

const bridge = createBridge({
  invoke: (channel, arg) => ipcRenderer.invoke(channel, arg),
  listen(channel, listener) {
    const wrapped = (_event: IpcRendererEvent, message: unknown) => listener(message);
    ipcRenderer.on(channel, wrapped);
    return () => ipcRenderer.removeListener(channel, wrapped);
  },
});

contextBridge.exposeInMainWorld('bitstable', bridge);
