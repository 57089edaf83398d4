import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

// One build tool for the three Electron targets. Dependencies stay external in main/preload
// (native modules such as better-sqlite3 and node-hid cannot be bundled).
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      lib: { entry: resolve(import.meta.dirname, 'main/index.ts') },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: true,
      lib: { entry: resolve(import.meta.dirname, 'preload/index.ts') },
      // A sandboxed preload must be CommonJS.
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    plugins: [
      react(),
      {
        // The page's meta policy is the production one (main/security.ts, without the directives
        // a meta tag cannot carry). Under the dev server the main process's header policy, which
        // adds the server and its HMR socket, is the one in force: drop the meta there.
        name: 'bitstable-dev-csp',
        apply: 'serve',
        transformIndexHtml: (html: string) =>
          html.replace(/<meta\s+http-equiv="Content-Security-Policy"[^>]*>/s, ''),
      },
    ],
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      rollupOptions: { input: resolve(import.meta.dirname, 'renderer/index.html') },
    },
  },
});
