/**
 * The application menu as a template (Electron is a type here only). Reload and DevTools only in
 * development; About, the project page, and update checks in Help (on macOS About is in the app
 * menu, where users look for it).
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openPsbt(): void;
  about(): void;
  checkForUpdates(): void;
  /** Absent when the build does not know its project page. */
  openProjectPage?: () => void;
}

export function buildMenuTemplate(
  actions: MenuActions,
  options: { platform: NodeJS.Platform; dev: boolean; appName: string },
): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin';
  const about: MenuItemConstructorOptions = {
    label: `About ${options.appName}`,
    click: () => actions.about(),
  };
  const updates: MenuItemConstructorOptions = {
    label: 'Check for Updates…',
    click: () => actions.checkForUpdates(),
  };
  const template: MenuItemConstructorOptions[] = [];
  if (mac) {
    template.push({
      label: options.appName,
      submenu: [
        about,
        updates,
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }
  template.push({
    label: 'File',
    submenu: [
      { label: 'Open PSBT…', accelerator: 'CmdOrCtrl+O', click: () => actions.openPsbt() },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  });
  template.push({
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  });
  template.push({
    label: 'View',
    submenu: [
      ...(options.dev
        ? ([
            { role: 'reload' },
            { role: 'toggleDevTools' },
            { type: 'separator' },
          ] as MenuItemConstructorOptions[])
        : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  });
  template.push({ role: 'windowMenu' });
  template.push({
    role: 'help',
    submenu: [
      ...(actions.openProjectPage
        ? [
            {
              label: 'BitStable on GitHub',
              click: () => actions.openProjectPage?.(),
            } as MenuItemConstructorOptions,
          ]
        : []),
      ...(mac ? [] : [{ type: 'separator' } as MenuItemConstructorOptions, updates, about]),
    ],
  });
  return template;
}
