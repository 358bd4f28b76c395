/**
 * The learner's progress in .workbook/progress.json: which exercises passed at
 * their last grading and how many hint levels were shown. Written atomically;
 * a missing file is an empty progress, a corrupt one is reset and said so.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The progress file's path, relative to the project root. */
export const PROGRESS_PATH = '.workbook/progress.json';

/** What is remembered about one exercise. */
export interface ExerciseProgress {
  /** Whether the last `npm run grade` of the learner's file passed. */
  passed?: boolean;
  /** When it first passed (ISO time), kept until reset. */
  passedAt?: string;
  /** The highest hint level shown (1-based). */
  hintLevel?: number;
}

/** The whole file. */
export interface Progress {
  version: 1;
  exercises: Record<string, ExerciseProgress>;
}

/** The progress, plus a note when the file had to be reset. */
export interface LoadedProgress {
  progress: Progress;
  /** Set when the file existed but could not be used, saying why it was reset. */
  resetReason?: string;
}

function empty(): Progress {
  return { version: 1, exercises: {} };
}

/** Reads the progress file under `root`, tolerating a missing or corrupt file. */
export function loadProgress(root: string): LoadedProgress {
  const path = join(root, PROGRESS_PATH);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { progress: empty() };
    return { progress: empty(), resetReason: `${PROGRESS_PATH} could not be read (${(err as Error).message}); progress was reset` };
  }
  try {
    return { progress: validate(JSON.parse(text)) };
  } catch (err) {
    // Why not fail: progress is a convenience; a bad file must never block grading.
    return { progress: empty(), resetReason: `${PROGRESS_PATH} was not valid (${(err as Error).message}); progress was reset` };
  }
}

function validate(data: unknown): Progress {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('expected a JSON object');
  const record = data as Record<string, unknown>;
  if (record['version'] !== 1) throw new Error(`expected version 1, got ${JSON.stringify(record['version'])}`);
  const exercises = record['exercises'];
  if (typeof exercises !== 'object' || exercises === null || Array.isArray(exercises)) throw new Error('expected "exercises" to be an object');
  const result: Progress = empty();
  for (const [id, value] of Object.entries(exercises as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) throw new Error(`expected exercise ${id} to be an object`);
    const entry = value as Record<string, unknown>;
    const clean: ExerciseProgress = {};
    if (typeof entry['passed'] === 'boolean') clean.passed = entry['passed'];
    if (typeof entry['passedAt'] === 'string') clean.passedAt = entry['passedAt'];
    if (Number.isInteger(entry['hintLevel']) && (entry['hintLevel'] as number) > 0) clean.hintLevel = entry['hintLevel'] as number;
    result.exercises[id] = clean;
  }
  return result;
}

/** Writes the progress file atomically: a temporary file, then a rename over the old one. */
export function saveProgress(root: string, progress: Progress): void {
  const path = join(root, PROGRESS_PATH);
  mkdirSync(join(root, '.workbook'), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(progress, null, 2)}\n`);
  // Why rename: it replaces the file in one step, so a crash mid-write leaves
  // either the old progress or the new one, never half of each.
  renameSync(tmp, path);
}

/** Loads, changes and saves the progress in one go; returns the reset note, if any. */
export function updateProgress(root: string, change: (progress: Progress) => void): string | undefined {
  const { progress, resetReason } = loadProgress(root);
  change(progress);
  saveProgress(root, progress);
  return resetReason;
}
