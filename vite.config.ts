import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

const SCENARIO_DIRECTORY = 'public/scenarios';
const INDEX_MODULE = 'virtual:scenario-index';

function listJson(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return listJson(path);
    return entry.name.endsWith('.json') ? [path] : [];
  });
}

/** The scenario library's index (path, group, title, description), read from public/scenarios at build time. */
function scenarioIndex(): Plugin {
  return {
    name: 'colo-sim-scenario-index',
    resolveId: (id) => (id === INDEX_MODULE ? `\0${INDEX_MODULE}` : undefined),
    load(id) {
      if (id !== `\0${INDEX_MODULE}`) return undefined;
      const entries = listJson(SCENARIO_DIRECTORY)
        .sort()
        .map((file) => {
          this.addWatchFile(resolve(file));
          const path = relative(SCENARIO_DIRECTORY, file).split(sep).join('/');
          let title = path;
          let description = '';
          try {
            const document = JSON.parse(readFileSync(file, 'utf8')) as { title?: unknown; description?: unknown };
            if (typeof document.title === 'string') title = document.title;
            if (typeof document.description === 'string') description = document.description;
          } catch {
            description = 'This file is not valid JSON.';
          }
          return { path, group: path.includes('/') ? path.slice(0, path.indexOf('/')) : '', title, description };
        });
      return `export default ${JSON.stringify(entries)};`;
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [svelte(), scenarioIndex()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { port: 5173 },
  preview: { port: 4173 },
});
