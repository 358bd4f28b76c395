/**
 * The workbook's manifest, labs/labs.yaml: every chapter, its lab, its checks
 * and its exercises. Loaded once, validated field by field, with every path
 * resolved against the project root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot, resolveInRoot } from './root.ts';

/** The manifest's path, relative to the project root. */
export const MANIFEST_PATH = 'labs/labs.yaml';

/** One exercise: a function the learner writes in labs/<slug>/<file>. */
export interface Exercise {
  id: string;
  title: string;
  /** File name inside labs/<slug>/, labs/.stubs/<slug>/ and solutions/<slug>/. */
  file: string;
  /** The exported function the exercise is about. */
  export: string;
  /** Root-relative path of the module that holds the finished version (same export name). */
  reference: string;
  task: string;
  hints: string[];
  /** The chapter this exercise belongs to. */
  chapter: number;
  /** Absolute paths of the exercise's four versions. */
  paths: { labs: string; stubs: string; solutions: string; reference: string };
}

/** One chapter of the book, with its lab and exercises. */
export interface Chapter {
  number: number;
  slug: string;
  title: string;
  /** Root-relative path of the chapter's Markdown. */
  chapter: string;
  /** Root-relative path of the lab module (exports `lab`). */
  lab: string;
  /** Root-relative path of the checks module (exports `checks`), absent when there are no exercises. */
  checks?: string;
  exercises: Exercise[];
  /** Absolute paths: the Markdown, the lab, the checks, and the three exercise folders. */
  paths: { chapter: string; lab: string; checks?: string; labs: string; stubs: string; solutions: string };
}

/** The whole manifest, chapters sorted by number. */
export interface Manifest {
  root: string;
  chapters: Chapter[];
}

/** A manifest that is not what the workbook expects; the message names the place. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const CHAPTER_FIELDS = ['number', 'slug', 'title', 'chapter', 'lab', 'checks', 'exercises'];
const EXERCISE_FIELDS = ['id', 'title', 'file', 'export', 'reference', 'task', 'hints'];

/** A chapter number or exercise id that the manifest does not have (bad input, not a broken manifest). */
export class LookupError extends ManifestError {
  constructor(message: string) {
    super(message);
    this.name = 'LookupError';
  }
}

/** Reads and validates labs/labs.yaml under `root` (default: this project). */
export function loadManifest(root: string = projectRoot): Manifest {
  let text: string;
  try {
    text = readFileSync(join(root, MANIFEST_PATH), 'utf8');
  } catch (err) {
    throw new ManifestError(`${MANIFEST_PATH}: expected the workbook manifest at ${join(root, MANIFEST_PATH)}, but it cannot be read (${(err as Error).message})`);
  }
  return parseManifest(text, root);
}

/** Validates manifest text; `root` is where its paths are resolved. */
export function parseManifest(text: string, root: string): Manifest {
  let data: unknown;
  try {
    // Why a small maxAliasCount: a manifest needs no aliases, and a "billion
    // laughs" alias bomb must fail fast instead of eating memory.
    data = parse(text, { maxAliasCount: 10, uniqueKeys: true });
  } catch (err) {
    throw new ManifestError(`${MANIFEST_PATH}: expected valid YAML, but parsing failed: ${(err as Error).message}`);
  }
  if (!isRecord(data)) fail('', `expected a mapping with a "chapters" list, got ${describe(data)}`);
  for (const key of Object.keys(data)) {
    if (key !== 'chapters') fail('', `unexpected top-level field "${key}"; expected only "chapters"`);
  }
  const list = data['chapters'];
  if (!Array.isArray(list) || list.length === 0) fail('', `expected a non-empty list of chapters, got ${describe(list)}`);

  const chapters = list.map((entry, index) => parseChapter(entry, index, root));
  const seenNumbers = new Set<number>();
  const seenIds = new Set<string>();
  for (const chapter of chapters) {
    if (seenNumbers.has(chapter.number)) fail(`chapter ${chapter.number}`, 'expected each chapter number once, but it appears twice');
    seenNumbers.add(chapter.number);
    for (const exercise of chapter.exercises) {
      if (seenIds.has(exercise.id)) fail(`chapter ${chapter.number} exercise ${exercise.id}`, 'expected each exercise id once, but it appears twice');
      seenIds.add(exercise.id);
    }
  }
  chapters.sort((a, b) => a.number - b.number);
  return { root, chapters };
}

function parseChapter(entry: unknown, index: number, root: string): Chapter {
  let where = `chapters[${index}]`;
  if (!isRecord(entry)) fail(where, `expected a mapping, got ${describe(entry)}`);
  const number = entry['number'];
  if (!Number.isInteger(number) || (number as number) < 0) fail(where, `expected "number" to be a whole number >= 0, got ${describe(number)}`);
  const n = number as number;
  where = `chapter ${n}`;
  checkFields(entry, CHAPTER_FIELDS, where);

  const slug = requireString(entry, 'slug', where);
  const prefix = String(n).padStart(2, '0') + '-';
  if (!/^\d{2}-[a-z0-9]+(-[a-z0-9]+)*$/.test(slug) || !slug.startsWith(prefix)) {
    fail(where, `expected "slug" to look like "${prefix}topic" (lower case, digits and dashes), got ${describe(slug)}`);
  }
  const title = requireString(entry, 'title', where);
  const chapterPath = requirePath(entry, 'chapter', '.md', where, root);
  const labPath = requirePath(entry, 'lab', '.ts', where, root);

  const rawExercises = entry['exercises'];
  if (rawExercises !== undefined && rawExercises !== null && !Array.isArray(rawExercises)) {
    fail(where, `expected "exercises" to be a list, got ${describe(rawExercises)}`);
  }
  const paths: Chapter['paths'] = {
    chapter: chapterPath.full,
    lab: labPath.full,
    labs: resolveInRoot(root, `labs/${slug}`),
    stubs: resolveInRoot(root, `labs/.stubs/${slug}`),
    solutions: resolveInRoot(root, `solutions/${slug}`),
  };
  const exerciseList: unknown[] = Array.isArray(rawExercises) ? rawExercises : [];
  const exercises = exerciseList.map((raw, i) => parseExercise(raw, i, n, paths, root));

  let checks: string | undefined;
  if (entry['checks'] !== undefined && entry['checks'] !== null) {
    const checksPath = requirePath(entry, 'checks', '.ts', where, root);
    checks = checksPath.raw;
    paths.checks = checksPath.full;
  } else if (exercises.length > 0) {
    // Why: the grader needs somewhere to find the checks of these exercises.
    fail(where, 'expected a "checks" module path, since the chapter has exercises, got nothing');
  }

  const chapter: Chapter = { number: n, slug, title, chapter: chapterPath.raw, lab: labPath.raw, exercises, paths };
  if (checks !== undefined) chapter.checks = checks;
  return chapter;
}

function parseExercise(entry: unknown, index: number, chapter: number, dirs: Chapter['paths'], root: string): Exercise {
  let where = `chapter ${chapter} exercises[${index}]`;
  if (!isRecord(entry)) fail(where, `expected a mapping, got ${describe(entry)}`);
  const id = entry['id'];
  if (typeof id !== 'string' || !/^\d+\.\d+$/.test(id)) fail(where, `expected "id" to be a string like "${chapter}.1", got ${describe(id)}`);
  where = `chapter ${chapter} exercise ${id}`;
  if (!id.startsWith(`${chapter}.`)) fail(where, `expected the id to start with "${chapter}." (its chapter's number), got ${describe(id)}`);
  checkFields(entry, EXERCISE_FIELDS, where);

  const title = requireString(entry, 'title', where);
  const file = requireString(entry, 'file', where);
  // Why so strict: the file name is joined to three folders and copied over
  // by reset, so it must stay a plain name inside those folders.
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*\.ts$/.test(file) || file.includes('..')) {
    fail(where, `expected "file" to be a plain .ts file name such as "revisions.ts", got ${describe(file)}`);
  }
  const exportName = requireString(entry, 'export', where);
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(exportName)) fail(where, `expected "export" to be a JavaScript identifier, got ${describe(exportName)}`);
  const reference = requirePath(entry, 'reference', '.ts', where, root);
  const task = requireString(entry, 'task', where);
  const hints = entry['hints'];
  if (!Array.isArray(hints) || hints.length === 0 || !hints.every((h) => typeof h === 'string' && h.trim() !== '')) {
    fail(where, `expected a non-empty list of hints, got ${describe(hints)}`);
  }
  return {
    id,
    title,
    file,
    export: exportName,
    reference: reference.raw,
    task: task.trim(),
    hints: (hints as string[]).map((h) => h.trim()),
    chapter,
    paths: { labs: join(dirs.labs, file), stubs: join(dirs.stubs, file), solutions: join(dirs.solutions, file), reference: reference.full },
  };
}

/** Finds chapter `number`, or throws naming the chapters that exist. */
export function findChapter(manifest: Manifest, number: number): Chapter {
  const chapter = manifest.chapters.find((c) => c.number === number);
  if (!chapter) {
    throw new LookupError(`expected a chapter number listed in ${MANIFEST_PATH} (${manifest.chapters.map((c) => c.number).join(', ')}), got ${number}`);
  }
  return chapter;
}

/** Every exercise of every chapter, in order. */
export function allExercises(manifest: Manifest): Exercise[] {
  return manifest.chapters.flatMap((c) => c.exercises);
}

/** Finds exercise `id`, or throws naming the ids that exist. */
export function findExercise(manifest: Manifest, id: string): Exercise {
  const all = allExercises(manifest);
  const exercise = all.find((e) => e.id === id);
  if (!exercise) {
    const valid = all.length > 0 ? `one of ${all.map((e) => e.id).join(', ')}` : 'an exercise id, but no chapter has exercises yet';
    throw new LookupError(`unknown exercise ${JSON.stringify(id)}: expected ${valid}`);
  }
  return exercise;
}

/** Renders a YAML value briefly for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function fail(where: string, message: string): never {
  throw new ManifestError(`${MANIFEST_PATH}: ${where ? `${where}: ` : ''}${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFields(entry: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(entry)) {
    // Why: a misspelt field ("hint:" for "hints:") would otherwise be ignored silently.
    if (!allowed.includes(key)) fail(where, `unexpected field "${key}"; expected only ${allowed.join(', ')}`);
  }
}

function requireString(entry: Record<string, unknown>, key: string, where: string): string {
  const value = entry[key];
  if (typeof value !== 'string' || value.trim() === '') fail(where, `expected "${key}" to be a non-empty string, got ${describe(value)}`);
  return value;
}

function requirePath(entry: Record<string, unknown>, key: string, extension: string, where: string, root: string): { raw: string; full: string } {
  const raw = requireString(entry, key, where);
  if (!raw.endsWith(extension)) fail(where, `expected "${key}" to be a path ending in ${extension}, got ${describe(raw)}`);
  try {
    return { raw, full: resolveInRoot(root, raw) };
  } catch (err) {
    return fail(where, `"${key}": ${(err as Error).message}`);
  }
}
