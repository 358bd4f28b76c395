/**
 * Where the project lives on disk: every workbook path (labs.yaml, labs/,
 * solutions/, chapters/, .workbook/) is resolved from this root.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Finds the nearest folder at or above `start` that holds a package.json. */
export function findRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`expected a package.json in ${start} or one of its parents, found none`);
    }
    dir = parent;
  }
}

/** The project root: the folder holding package.json above this file. */
export const projectRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

/** Resolves a root-relative path, refusing any path that would leave the root. */
export function resolveInRoot(root: string, path: string): string {
  const full = resolve(root, path);
  const rel = relative(root, full);
  // Why: manifest and include paths come from files a learner can edit; a path
  // like ../../etc/passwd must not reach outside the project.
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
    throw new Error(`expected a path inside the project (${root}), got ${JSON.stringify(path)}`);
  }
  return full;
}

/** Shows an absolute path relative to the root, with forward slashes, for messages. */
export function displayPath(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') ? path : rel.split(sep).join('/');
}
