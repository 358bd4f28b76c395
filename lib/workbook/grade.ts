/**
 * The grader: imports each exercise's module (the learner's, the worked
 * solution or the pristine stub), runs its checks, and says per exercise
 * whether it passed, failed (with the first failure in plain words), is not
 * started yet, or does not even load.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Check } from './checks/types.ts';
import { findChapter, loadManifest, type Chapter, type Exercise, type Manifest } from './manifest.ts';
import { describeLoadError, importFresh } from './modules.ts';
import { heading, table, type Write } from './output.ts';
import { updateProgress } from './progress.ts';
import { displayPath, projectRoot } from './root.ts';
import { isTodo } from './todo.ts';

/** Which copy of the exercises to grade. */
export type Source = 'labs' | 'solutions' | 'stubs';

/** How one exercise came out. */
export type ExerciseStatus = 'passed' | 'failed' | 'not started' | 'does not load';

/** How one check came out. */
export interface CheckResult {
  name: string;
  status: 'passed' | 'failed' | 'todo';
  message?: string;
}

/** One exercise's grade. */
export interface ExerciseResult {
  exercise: Exercise;
  status: ExerciseStatus;
  /** Checks passed, out of `total`. */
  passed: number;
  total: number;
  /** The first failure (or why it does not load, or that it is not started), in plain words. */
  message?: string;
  /** The graded file, relative to the project root. */
  file: string;
  checks: CheckResult[];
}

/** One chapter's grades. */
export interface ChapterResult {
  chapter: Chapter;
  source: Source;
  results: ExerciseResult[];
}

/** Options of gradeChapter; `root` and `manifest` let tests grade a fixture project. */
export interface GradeOptions {
  source: Source;
  root?: string;
  manifest?: Manifest;
  /** How long an asynchronous check may take before it fails (default 10 s). */
  timeoutMs?: number;
}

/** The workbook itself is broken (checks missing or not loading): not the learner's fault. */
export class GradeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradeError';
  }
}

/** The file an exercise is graded from, for a given source. */
export function sourcePath(exercise: Exercise, source: Source): string {
  return source === 'labs' ? exercise.paths.labs : source === 'solutions' ? exercise.paths.solutions : exercise.paths.stubs;
}

/** Imports a chapter's checks module and validates its `checks` export. */
export async function loadChecks(chapter: Chapter, root: string): Promise<Record<string, Check[]>> {
  const path = chapter.paths.checks;
  if (!path || !chapter.checks) throw new GradeError(`chapter ${chapter.number} has no checks module in labs/labs.yaml`);
  if (!existsSync(path)) throw new GradeError(`chapter ${chapter.number}'s checks module ${chapter.checks} does not exist yet`);
  let module: Record<string, unknown>;
  try {
    // Why fresh: a long-lived process (tests, a future watch mode) must see edited checks too.
    module = await importFresh(path);
  } catch (err) {
    throw new GradeError(`chapter ${chapter.number}'s checks module ${displayPath(root, path)} does not load: ${describeLoadError(err)}`);
  }
  const checks = module['checks'];
  if (typeof checks !== 'object' || checks === null) {
    throw new GradeError(`${chapter.checks}: expected an export \`checks\` (a record of check lists keyed by exercise id), got ${typeof checks}`);
  }
  const record = checks as Record<string, unknown>;
  for (const exercise of chapter.exercises) {
    const list = record[exercise.id];
    if (!Array.isArray(list) || list.length === 0 || !list.every((c) => typeof c?.name === 'string' && typeof c?.run === 'function')) {
      throw new GradeError(`${chapter.checks}: expected checks["${exercise.id}"] to be a non-empty list of { name, run }, got ${Array.isArray(list) ? `a list of ${list.length}` : typeof list}`);
    }
  }
  return record as Record<string, Check[]>;
}

/** Grades every exercise of chapter `number` from the chosen source. */
export async function gradeChapter(number: number, options: GradeOptions): Promise<ChapterResult> {
  const root = options.root ?? options.manifest?.root ?? projectRoot;
  const manifest = options.manifest ?? loadManifest(root);
  const chapter = findChapter(manifest, number);
  if (chapter.exercises.length === 0) return { chapter, source: options.source, results: [] };
  const checks = await loadChecks(chapter, root);
  const results: ExerciseResult[] = [];
  for (const exercise of chapter.exercises) {
    results.push(await gradeExercise(exercise, checks[exercise.id] ?? [], options.source, root, options.timeoutMs ?? 10_000));
  }
  return { chapter, source: options.source, results };
}

/** Grades one exercise's file against its checks. */
export async function gradeExercise(exercise: Exercise, checks: Check[], source: Source, root: string, timeoutMs = 10_000): Promise<ExerciseResult> {
  const path = sourcePath(exercise, source);
  const file = displayPath(root, path);
  const base = { exercise, file, passed: 0, total: checks.length, checks: [] as CheckResult[] };
  if (!existsSync(path)) {
    const fix = source === 'labs' ? `; restore the stub with \`npm run reset ${exercise.id}\`` : '';
    return { ...base, status: 'does not load', message: `${file} is missing${fix}` };
  }
  let module: Record<string, unknown>;
  try {
    module = await importFresh(path);
  } catch (err) {
    // Why: a stub may throw TODO while loading; that is "not started", not broken.
    if (isTodo(err)) return { ...base, status: 'not started', message: `${file}: ${err.message}` };
    return { ...base, status: 'does not load', message: `${file} does not load: ${describeLoadError(err)}` };
  }
  if (module[exercise.export] === undefined) {
    return { ...base, status: 'failed', message: `${file} does not export ${exercise.export} (expected \`export function ${exercise.export}(...)\`)` };
  }

  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(check, module, path, timeoutMs));
  const passed = results.filter((r) => r.status === 'passed').length;
  const firstFailure = results.find((r) => r.status === 'failed');
  const firstTodo = results.find((r) => r.status === 'todo');
  if (firstFailure) {
    return { ...base, checks: results, passed, status: 'failed', message: `check "${firstFailure.name}": ${firstFailure.message}` };
  }
  if (firstTodo) {
    return { ...base, checks: results, passed, status: 'not started', message: `${exercise.export} in ${file} still throws TODO` };
  }
  return { ...base, checks: results, passed, status: 'passed' };
}

async function runCheck(check: Check, module: Record<string, unknown>, path: string, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = check.run(module);
    if (outcome && typeof (outcome as Promise<void>).then === 'function') {
      const timeout = new Promise<never>((_, reject) => {
        // Why not unref: a promise that never settles leaves nothing else to keep the process alive until the timeout fires.
        timer = setTimeout(() => reject(new Error(`the check did not finish within ${timeoutMs / 1000} s (an endless loop, or a promise that never settles?)`)), timeoutMs);
      });
      await Promise.race([outcome, timeout]);
    }
    return { name: check.name, status: 'passed' };
  } catch (err) {
    if (isTodo(err)) return { name: check.name, status: 'todo', message: err.message };
    return { name: check.name, status: 'failed', message: explainError(err, path) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Turns a check's error into plain words; an unexpected crash says where in the learner's file it happened. */
export function explainError(err: unknown, path: string): string {
  if (!(err instanceof Error)) return `it threw ${String(err)}`;
  if (err.name === 'CheckFailure') return err.message;
  const where = locationInFile(err, path);
  return `your code threw ${err.name}: ${err.message}${where ? ` (at ${where})` : ''}`;
}

function locationInFile(err: Error, path: string): string | null {
  const url = pathToFileURL(path).href;
  for (const line of (err.stack ?? '').split('\n')) {
    for (const form of [url, path]) {
      const at = line.indexOf(form);
      if (at === -1) continue;
      // Why skip the query: importFresh adds ?workbook=… to the URL.
      const match = /^(?:\?[^:\s)]*)?:(\d+):(\d+)/.exec(line.slice(at + form.length));
      if (match) return `line ${match[1]}, column ${match[2]}`;
    }
  }
  return null;
}

/** Renders a chapter's grades as the table and summary `npm run grade` prints. */
export function formatChapterResult(result: ChapterResult): string {
  const { chapter, source, results } = result;
  const folder = source === 'labs' ? `labs/${chapter.slug}` : source === 'solutions' ? `solutions/${chapter.slug}` : `labs/.stubs/${chapter.slug}`;
  const rows = results.map((r) => [r.exercise.id, r.exercise.title, r.status, `${r.passed}/${r.total}`]);
  const passing = results.filter((r) => r.status === 'passed').length;
  return [
    heading(`Chapter ${chapter.number}: ${chapter.title} (${folder})`, '-'),
    '',
    table(['id', 'exercise', 'status', 'checks'], rows).split('\n').map((l) => `  ${l}`).join('\n'),
    '',
    `${passing} of ${results.length} exercise${results.length === 1 ? '' : 's'} pass.`,
  ].join('\n');
}

/** Advice about the first exercise that does not pass: what went wrong and what to run next. */
export function formatFirstProblem(result: ExerciseResult, source: Source): string {
  const { exercise } = result;
  const lines = [`First to fix: ${exercise.id} ${exercise.title} (${result.file}), ${result.status}`];
  if (result.status === 'not started') {
    lines.push(`  ${exercise.task}`);
    lines.push(`  Write \`${exercise.export}\` in ${result.file}, replacing its \`todo(...)\` line.`);
  } else if (result.message) {
    lines.push(`  ${result.message}`);
  }
  if (source === 'solutions') {
    lines.push('  The worked solutions should pass every check: this is a bug in the workbook.');
  } else {
    lines.push(`Next: \`npm run grade ${exercise.chapter}\` after each change; stuck? \`npm run hint ${exercise.id}\``);
  }
  return lines.join('\n');
}

/** Records grades of the learner's files in the progress file; returns the reset note, if any. */
export function recordGrades(root: string, results: ExerciseResult[]): string | undefined {
  return updateProgress(root, (progress) => {
    for (const result of results) {
      const entry = (progress.exercises[result.exercise.id] ??= {});
      entry.passed = result.status === 'passed';
      if (entry.passed && !entry.passedAt) entry.passedAt = new Date().toISOString();
    }
  });
}

/** `npm run grade [N] [-- --solutions]`: prints tables and advice; returns the exit code (1 while anything does not pass). */
export async function gradeCommand(options: { chapter?: number; solutions: boolean; root?: string }, write: Write): Promise<number> {
  const root = options.root ?? projectRoot;
  const manifest = loadManifest(root);
  const source: Source = options.solutions ? 'solutions' : 'labs';
  let chapters: Chapter[];
  if (options.chapter !== undefined) {
    const chapter = findChapter(manifest, options.chapter);
    if (chapter.exercises.length === 0) {
      write(`Chapter ${chapter.number} (${chapter.title}) has no exercises to grade. Its lab: \`npm run lab ${chapter.number}\`.`);
      return 0;
    }
    chapters = [chapter];
  } else {
    chapters = manifest.chapters.filter((c) => c.exercises.length > 0);
    if (chapters.length === 0) {
      write('No chapter has exercises yet; nothing to grade.');
      return 0;
    }
  }

  let allPass = true;
  const problems: ExerciseResult[] = [];
  for (const chapter of chapters) {
    let result: ChapterResult;
    try {
      result = await gradeChapter(chapter.number, { source, root, manifest });
    } catch (err) {
      // Why carry on: one chapter's broken checks should not hide the others' grades.
      write(`Chapter ${chapter.number}: cannot grade: ${(err as Error).message}`);
      write('');
      allPass = false;
      continue;
    }
    write(formatChapterResult(result));
    write('');
    if (source === 'labs') {
      const note = recordGrades(root, result.results);
      if (note) write(`(${note})`);
    }
    for (const r of result.results) {
      if (r.status === 'passed') continue;
      allPass = false;
      problems.push(r);
    }
  }
  // Why prefer a real failure: the learner is working on the exercise that fails, not on the ones not started.
  const firstProblem = problems.find((r) => r.status !== 'not started') ?? problems[0];
  if (firstProblem) write(formatFirstProblem(firstProblem, source));
  else if (allPass) write(source === 'labs' ? 'Every graded exercise passes. Well done.' : 'Every worked solution passes.');
  return allPass ? 0 : 1;
}
