// Vite builds the console into the folder CMake names (--outDir); JSX is
// compiled by esbuild for Preact, so no Babel plugin is needed.
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2022',
    // One stylesheet and hashed file names under assets/ (served immutable).
    assetsDir: 'assets',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8380' } },
});
