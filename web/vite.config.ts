// Vite builds the single-page app that the `web` component embeds (components/web/build.rs
// passes --outDir). Hashed file names under /assets/ are what lets the component cache them
// for a year; `index.html` is the only entry and is always revalidated.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    assetsDir: 'assets',
    // Small icons stay files rather than data: URLs, so the CSP needs no exception for them.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npm run dev` proxies the API to `cargo xtask up`, so the UI reloads live against the
    // real backend.
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
