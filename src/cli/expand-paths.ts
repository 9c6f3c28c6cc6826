/**
 * Turns command-line arguments into scenario files: a file as given, a directory as every
 * .json file below it, and a glob the shell left unexpanded (quoted, or ** without globstar)
 * as the files it matches.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const GLOB_CHARACTERS = /[*?[]/;

export function expandPaths(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    if (GLOB_CHARACTERS.test(arg)) files.push(...expandGlob(arg));
    else if (isDirectory(arg)) files.push(...walk(arg).filter((file) => file.endsWith('.json')).sort());
    else files.push(arg);
  }
  return files;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function walk(directory: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/** A glob with *, ** and ? over paths below its longest directory prefix without wildcards. */
function expandGlob(pattern: string): string[] {
  const parts = pattern.split(/[\\/]/);
  const firstWild = parts.findIndex((part) => GLOB_CHARACTERS.test(part));
  const base = parts.slice(0, firstWild).join('/') || '.';
  if (!isDirectory(base)) return [pattern];
  const regex = globToRegExp(parts.slice(firstWild).join('/'));
  const matches = walk(base)
    .filter((file) => regex.test(relative(base, file).split(sep).join('/')))
    .sort();
  return matches.length > 0 ? matches : [pattern];
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index]!;
    if (char === '*' && glob[index + 1] === '*') {
      // "**/" matches any number of directories, including none.
      if (glob[index + 2] === '/') {
        source += '(?:.*/)?';
        index += 2;
      } else {
        source += '.*';
        index += 1;
      }
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
