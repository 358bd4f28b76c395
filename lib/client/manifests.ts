/**
 * Manifests: the YAML (or JSON) files a user hands to `kubectl apply -f`.
 * A file may hold several documents separated by `---`, a folder holds
 * several files, and `-` means standard input. What comes out is a flat list
 * of objects, each remembering where it came from so that an error can say
 * "document 2 of web.yaml" instead of "somewhere".
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../api/types.ts';

/** One object read from a manifest, with where it came from. */
export interface Manifest {
  object: KubeObject;
  /** The file it was read from, or `stdin`. */
  source: string;
  /** Which document of the file, counting from 1; `2.3` is item 3 of a List in document 2. */
  document: string;
}

/** The file extensions a folder is searched for, as kubectl's. */
export const MANIFEST_EXTENSIONS = ['.json', '.yaml', '.yml'];

/**
 * At most this many alias expansions per document. Real manifests use a few
 * anchors at most; an alias bomb ("billion laughs", CVE-2019-11253) needs
 * millions, and once hung kubectl and the API server. Refusing early keeps the
 * parse fast and the memory small.
 */
export const MAX_ALIAS_COUNT = 100;

/** Reads the manifests at a file, a folder (its *.yaml, *.yml and *.json files, sorted), or `-` for stdin. */
export async function loadManifests(path: string, stdin: AsyncIterable<string | Buffer> = process.stdin): Promise<Manifest[]> {
  if (path === '-') return parseManifests(await readStream(stdin), 'stdin');
  const stat = statOrNull(path);
  if (!stat) throw new Error(`the path "${path}" does not exist`);
  if (!stat.isDirectory()) return parseManifests(readFileSync(path, 'utf8'), path);
  const files = readdirSync(path)
    .filter((name) => MANIFEST_EXTENSIONS.includes(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(path, name));
  // Why an error and not an empty list: an apply that silently does nothing hides a typo in the folder name.
  if (files.length === 0) {
    throw new Error(`expected manifest files (${MANIFEST_EXTENSIONS.join(' ')}) in the folder ${path}, got none`);
  }
  return files.flatMap((file) => parseManifests(readFileSync(file, 'utf8'), file));
}

/** Parses the text of one manifest file (one or more YAML or JSON documents) into objects. */
export function parseManifests(text: string, source: string): Manifest[] {
  const manifests: Manifest[] = [];
  // Why YAML for JSON files too: JSON is a subset of YAML 1.2, so one parser reads both.
  const documents = parseAllDocuments(text);
  documents.forEach((document, index) => {
    const where = `document ${index + 1} of ${source}`;
    const [syntaxError] = document.errors;
    if (syntaxError) throw new Error(`expected valid YAML in ${where}, got: ${firstLine(syntaxError.message)}`);
    const value = toValue(document, where);
    // Why skip null: a stray `---` at the end of a file, or a document of comments only, is not an error.
    if (value === null || value === undefined) return;
    manifests.push(...expand(value, source, `${index + 1}`));
  });
  return manifests;
}

/** The document as plain data, refusing an alias bomb before it is expanded. */
function toValue(document: ReturnType<typeof parseAllDocuments>[number], where: string): unknown {
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // Why only ReferenceError is ours to explain: that is how the yaml package reports too many aliases.
    if (error instanceof ReferenceError) {
      throw new Error(
        `refusing ${where}: expected at most ${MAX_ALIAS_COUNT} YAML alias expansions, got more ` +
          '(this looks like an alias bomb, "billion laughs", CVE-2019-11253)',
      );
    }
    throw new Error(`expected valid YAML in ${where}, got: ${firstLine((error as Error).message)}`);
  }
}

/** One parsed document as objects: itself, or the items of a `kind: List`. */
function expand(value: unknown, source: string, document: string): Manifest[] {
  const object = checkObject(value, `document ${document} of ${source}`);
  // Why expand Lists: `kubectl get -o yaml` writes one, and users apply what it wrote.
  if (object.kind !== 'List') return [{ object, source, document }];
  const items = object.items;
  if (!Array.isArray(items)) {
    throw new Error(`expected an items list in the List of document ${document} of ${source}, got ${describeValue(items)}`);
  }
  return items.flatMap((item, index) => expand(item, source, `${document}.${index + 1}`));
}

/** Checks that a value has what every Kubernetes object needs: apiVersion, kind and a name. */
function checkObject(value: unknown, where: string): KubeObject {
  if (!isMapping(value)) throw new Error(`expected an object (a YAML mapping) in ${where}, got ${describeValue(value)}`);
  const missing: string[] = [];
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') missing.push('apiVersion');
  if (typeof value.kind !== 'string' || value.kind === '') missing.push('kind');
  // Why a List needs no name: it is only an envelope for its items, which do.
  if (value.kind !== 'List' && !hasName(value.metadata)) missing.push('metadata.name (or metadata.generateName)');
  if (missing.length > 0) {
    throw new Error(`expected ${missing.join(', ')} in ${where}, got an object with keys ${JSON.stringify(Object.keys(value))}`);
  }
  return value as KubeObject;
}

function hasName(metadata: unknown): boolean {
  if (!isMapping(metadata)) return false;
  return isNonEmptyString(metadata.name) || isNonEmptyString(metadata.generateName);
}

function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of a value that was not what we expected: `a list`, `the string "x"`. */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 60))}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The first line of a parser message; the yaml package appends a picture of the bad line after it. */
function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

async function readStream(stream: AsyncIterable<string | Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text;
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

