/**
 * Preload: exposes the typed API as `window.bitstable` through contextBridge, one named function
 * per contract method (no raw ipcRenderer). The contract's methods arrive with the UI issue.
 */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('bitstable', {
  apiVersion: 1,
});
