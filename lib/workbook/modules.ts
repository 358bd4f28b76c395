/**
 * Importing learner code: a fresh copy on every call, so a grade or lab run
 * after an edit sees the edit, and errors turned into one plain sentence.
 */
import { pathToFileURL } from 'node:url';

let generation = 0;

/** Imports the module at an absolute path, bypassing the module cache for that file. */
export async function importFresh(path: string): Promise<Record<string, unknown>> {
  generation += 1;
  // Why the query string: ESM caches modules by URL, so a new query is a new
  // module; tsx strips it when it reads the file.
  const url = `${pathToFileURL(path).href}?workbook=${Date.now()}-${generation}`;
  return (await import(url)) as Record<string, unknown>;
}

/** Says in one or two lines why a module failed to import (missing, syntax error, thrown at load). */
export function describeLoadError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_MODULE_NOT_FOUND') {
    // Why: Node's message names the importer, which is the workbook, not the learner's file.
    return err.message.replace(/ imported from .*$/s, '').replace(/\?workbook=[0-9-]+/g, '');
  }
  // Why: esbuild (through tsx) reports syntax errors as "Transform failed with
  // N error(s):" followed by "file:line:col: ERROR: text" lines.
  const message = err.message
    .replace(/^Transform failed with \d+ errors?:\n/, 'syntax error: ')
    .replace(/\?workbook=[0-9-]+/g, '');
  return `${err.name === 'Error' || err.name === 'TransformError' ? '' : `${err.name}: `}${message}`.trim();
}
