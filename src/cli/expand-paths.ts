/**
 * Turns command-line arguments into scenario files: a file as given, a directory as every
 * .json file below it, and a glob the shell left unexpanded (quoted, or ** without globstar)
 * as the files it matches.
 *
 * An argument that yields no file says why (`nothingBecause`), so the CLI can name it: a
 * directory or pattern that silently contributes nothing would hide a typo in a CI job.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const GLOB_CHARACTERS = /[*?[]/;

export interface Expansion {
  /** The argument as given. */
  readonly arg: string;
  /** The files it stands for, in the order they are run. */
  readonly files: readonly string[];
  /** When `files` is empty: what the argument is instead ("a directory with no .json files below it"). */
  readonly nothingBecause?: string;
}

export const EMPTY_DIRECTORY = 'a directory with no .json files below it';
export const UNMATCHED_PATTERN = 'a pattern that matches no file';

export function expandPaths(args: readonly string[]): Expansion[] {
  return args.map((arg): Expansion => {
    if (GLOB_CHARACTERS.test(arg)) {
      const matches = expandGlob(arg);
      if (matches.length > 0) return { arg, files: matches };
      // A file whose name really contains * ? or [ is taken as it is.
      return isFile(arg) ? { arg, files: [arg] } : { arg, files: [], nothingBecause: UNMATCHED_PATTERN };
    }
    if (isDirectory(arg)) {
      const files = walk(arg)
        .filter((file) => file.endsWith('.json'))
        .sort();
      return files.length > 0 ? { arg, files } : { arg, files: [], nothingBecause: EMPTY_DIRECTORY };
    }
    // Anything else is a file; if it cannot be read, reading it says why.
    return { arg, files: [arg] };
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
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
  // No directory part means the current directory; an empty one (a leading "/") means the root.
  const base = firstWild === 0 ? '.' : parts.slice(0, firstWild).join('/') || '/';
  if (!isDirectory(base)) return [];
  const regex = globToRegExp(parts.slice(firstWild).join('/'));
  return walk(base)
    .filter((file) => regex.test(relative(base, file).split(sep).join('/')))
    .sort();
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
