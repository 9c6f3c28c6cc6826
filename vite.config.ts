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

const LESSON_DIRECTORY = 'public/lessons';
const LESSON_INDEX_MODULE = 'virtual:lesson-index';

/**
 * The course's index, read from public/lessons at build time, in course order (`lesson.order`):
 * what the course page lists before any lesson file is fetched. A file without a valid lesson
 * block is left out (the lessons test rejects it).
 */
function lessonIndex(): Plugin {
  return {
    name: 'colo-sim-lesson-index',
    resolveId: (id) => (id === LESSON_INDEX_MODULE ? `\0${LESSON_INDEX_MODULE}` : undefined),
    load(id) {
      if (id !== `\0${LESSON_INDEX_MODULE}`) return undefined;
      const entries = listJson(LESSON_DIRECTORY).flatMap((file) => {
        this.addWatchFile(resolve(file));
        try {
          const document = JSON.parse(readFileSync(file, 'utf8')) as {
            title?: unknown;
            description?: unknown;
            lesson?: { id?: unknown; order?: unknown; minutes?: unknown; covers?: unknown };
            steps?: Array<{ op?: unknown }>;
          };
          const lesson = document.lesson;
          if (!lesson || typeof lesson.id !== 'string' || typeof lesson.order !== 'number') return [];
          const steps = Array.isArray(document.steps) ? document.steps : [];
          return [
            {
              id: lesson.id,
              file: relative(LESSON_DIRECTORY, file).split(sep).join('/'),
              title: typeof document.title === 'string' ? document.title : lesson.id,
              description: typeof document.description === 'string' ? document.description : '',
              order: lesson.order,
              minutes: typeof lesson.minutes === 'number' ? lesson.minutes : 0,
              covers: Array.isArray(lesson.covers) ? lesson.covers.filter((topic): topic is string => typeof topic === 'string') : [],
              stops: steps.filter((step) => step.op === 'say' || step.op === 'ask' || step.op === 'task').length,
            },
          ];
        } catch {
          return [];
        }
      });
      entries.sort((a, b) => a.order - b.order);
      return `export default ${JSON.stringify(entries)};`;
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [svelte(), scenarioIndex(), lessonIndex()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { port: 5173 },
  preview: { port: 4173 },
});
