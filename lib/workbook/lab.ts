/**
 * The lab runner: runs a chapter's lab step by step, narrating what each
 * component does. Exercise seams (`ctx.impl('1.1')`) put the learner's own
 * function into the running cluster, and fall back to the reference while the
 * learner's version is still a TODO stub.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { detectEnvironment, type Verdict } from './doctor.ts';
import { allExercises, findChapter, loadManifest, type Chapter, type Exercise, type Manifest } from './manifest.ts';
import { describeLoadError, importFresh } from './modules.ts';
import { formatValue, heading, indent, writeStdout, type Write } from './output.ts';
import { displayPath, projectRoot } from './root.ts';
import { isTodo } from './todo.ts';

/** What a lab step can do: narrate, show values, use exercise seams, clean up. */
export interface LabContext {
  /** Narration: what is happening now. */
  say(text: string): void;
  /** Shows a value under a label: objects as indented JSON, text as indented lines. */
  show(label: string, value: unknown): void;
  /** An aside, e.g. what is still missing from the cluster at this point. */
  note(text: string): void;
  /** True with `--solutions`: exercises come from solutions/. */
  solutions: boolean;
  /** True with `--real`: real containers and networking (Linux, root). */
  real: boolean;
  /** A fresh temporary folder, removed when the lab ends. */
  tmpDir: string;
  /** Registers work to undo at the end, even when a step fails; run last-registered first. */
  onCleanup(fn: () => Promise<void> | void): void;
  /** The function of exercise `exerciseId`: the learner's (or the solution), falling back to the reference while it is TODO. */
  impl<T>(exerciseId: string): T;
}

/** One numbered step of a lab. */
export interface LabStep {
  title: string;
  run(ctx: LabContext): Promise<void>;
}

/** A chapter's lab: the default export shape of lib/workbook/labs/NN-topic.ts (`export const lab`). */
export interface Lab {
  chapter: number;
  title: string;
  intro: string;
  steps: LabStep[];
}

/** Options of runLab; `root` points it at a fixture project in tests. */
export interface LabOptions {
  solutions?: boolean;
  real?: boolean;
  root?: string;
  /** Decides whether --real may run (default: the doctor's verdict); tests inject one. */
  checkRealMode?: () => Promise<Verdict>;
  /** Run cleanups and exit on Ctrl-C (the CLI sets this). */
  handleSignals?: boolean;
}

/** How a lab run ended. */
export interface LabResult {
  ok: boolean;
  /** Steps that completed. */
  stepsCompleted: number;
  /** 1-based number of the step that failed, if one did. */
  failedStep?: number;
  error?: unknown;
}

/** Checks that a lab module's `lab` export has the Lab shape; throws saying what is wrong. */
export function validateLab(value: unknown, file: string, chapter: number): Lab {
  const where = `${file}: expected an export \`lab\``;
  if (typeof value !== 'object' || value === null) throw new Error(`${where} (a Lab object), got ${typeof value}`);
  const lab = value as Partial<Lab>;
  if (lab.chapter !== chapter) throw new Error(`${where} with chapter ${chapter}, got chapter ${JSON.stringify(lab.chapter)}`);
  if (typeof lab.title !== 'string' || typeof lab.intro !== 'string') throw new Error(`${where} with a title and an intro (strings)`);
  if (!Array.isArray(lab.steps) || lab.steps.length === 0) throw new Error(`${where} with a non-empty list of steps`);
  lab.steps.forEach((step, i) => {
    if (typeof step?.title !== 'string' || typeof step?.run !== 'function') {
      throw new Error(`${where} whose step ${i + 1} has a title and a run(ctx) function`);
    }
  });
  return lab as Lab;
}

interface LoadedSeam {
  exercise: Exercise;
  /** The learner's (or the solution's) module, or why it did not load. */
  module: Record<string, unknown> | null;
  loadError: string | null;
  reference: Record<string, unknown> | null;
  referenceError: string | null;
}

async function tryImport(path: string, fresh: boolean): Promise<{ module: Record<string, unknown> | null; error: string | null }> {
  if (!existsSync(path)) return { module: null, error: 'the file is missing' };
  try {
    const module = fresh ? await importFresh(path) : ((await import(pathToFileURL(path).href)) as Record<string, unknown>);
    return { module, error: null };
  } catch (err) {
    return { module: null, error: describeLoadError(err) };
  }
}

/** Imports every exercise module a lab may use (chapters up to its own), so ctx.impl can stay synchronous. */
async function loadSeams(manifest: Manifest, upTo: number, solutions: boolean): Promise<Map<string, LoadedSeam>> {
  const seams = new Map<string, LoadedSeam>();
  for (const exercise of allExercises(manifest).filter((e) => e.chapter <= upTo)) {
    const own = await tryImport(solutions ? exercise.paths.solutions : exercise.paths.labs, true);
    const reference = await tryImport(exercise.paths.reference, false);
    seams.set(exercise.id, { exercise, module: own.module, loadError: own.error, reference: reference.module, referenceError: reference.error });
  }
  return seams;
}

/** Builds ctx.impl: the learner's function, wrapped to fall back on the reference while it throws TODO. */
function makeImpl(seams: Map<string, LoadedSeam>, root: string, solutions: boolean, chapter: number, note: (text: string) => void): <T>(id: string) => T {
  const cache = new Map<string, unknown>();
  return <T>(id: string): T => {
    const cached = cache.get(id);
    if (cached !== undefined) return cached as T;
    const seam = seams.get(id);
    if (!seam) {
      const known = [...seams.keys()];
      throw new Error(`ctx.impl: expected an exercise id of chapters up to ${chapter} (${known.length ? known.join(', ') : 'none have exercises'}), got ${JSON.stringify(id)}`);
    }
    const value = buildSeam(seam, root, solutions, note);
    cache.set(id, value);
    return value as T;
  };
}

function buildSeam(seam: LoadedSeam, root: string, solutions: boolean, note: (text: string) => void): unknown {
  const { exercise } = seam;
  const ownFile = displayPath(root, solutions ? exercise.paths.solutions : exercise.paths.labs);
  const reference = seam.reference?.[exercise.export];
  const useReference = (why: string): unknown => {
    if (reference === undefined) {
      throw new Error(`exercise ${exercise.id}: ${why}, and the reference ${exercise.reference} ${seam.referenceError ? `does not load: ${seam.referenceError}` : `does not export ${exercise.export}`}`);
    }
    note(`${why}; using the reference implementation (${exercise.reference})`);
    return reference;
  };
  if (seam.module === null) return useReference(`${ownFile} does not load (${seam.loadError})`);
  const own = seam.module[exercise.export];
  if (typeof own !== 'function') {
    // Why: an exercise may be a value (say, a machine's config) rather than a function; then there is nothing to wrap.
    if (own !== undefined && typeof reference !== 'function') {
      note(usingMessage(exercise, ownFile, solutions));
      return own;
    }
    return useReference(`${ownFile} does not export a function ${exercise.export}`);
  }

  let saidOwn = false;
  let saidFallback = false;
  const sayOwn = () => {
    if (!saidOwn) note(usingMessage(exercise, ownFile, solutions));
    saidOwn = true;
  };
  const fallback = (self: unknown, args: unknown[]): unknown => {
    if (typeof reference !== 'function') return useReference(`exercise ${exercise.id} is not written yet`);
    if (!saidFallback) note(`exercise ${exercise.id} is not written yet; using the reference implementation (${exercise.reference})`);
    saidFallback = true;
    return reference.apply(self, args);
  };
  const learner = own as (...args: unknown[]) => unknown;
  return function seamed(this: unknown, ...args: unknown[]): unknown {
    let result: unknown;
    try {
      result = learner.apply(this, args);
    } catch (err) {
      // Why per call: a learner's function may be TODO in one branch only.
      if (isTodo(err)) return fallback(this, args);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          sayOwn();
          return value;
        },
        (err: unknown) => {
          if (isTodo(err)) return fallback(this, args);
          throw err;
        },
      );
    }
    sayOwn();
    return result;
  };
}

function usingMessage(exercise: Exercise, file: string, solutions: boolean): string {
  return solutions ? `using the worked solution's ${exercise.export} from ${file}` : `using your ${exercise.export} from ${file}`;
}

/** What to do after a lab that passed. */
function whatNext(chapter: Chapter, manifest: Manifest): string {
  const lines = [`Read the chapter: \`npm run read ${chapter.number}\` (or \`npm run book\` for HTML).`];
  if (chapter.exercises.length > 0) {
    lines.push(`Do its exercises in labs/${chapter.slug}/ and check them with \`npm run grade ${chapter.number}\`.`);
  }
  const next = manifest.chapters.find((c) => c.number > chapter.number);
  if (next) lines.push(`Then the next lab: \`npm run lab ${next.number}\` (${next.title}).`);
  return lines.join('\n');
}

/**
 * Runs lab `number`: loads the chapter's lab module, prints the intro, runs
 * every step with a numbered heading, always runs the cleanups, and says what
 * comes next. Everything is written through `write`, so tests can read it.
 */
export async function runLab(number: number, options: LabOptions = {}, write: Write = writeStdout): Promise<LabResult> {
  const root = options.root ?? projectRoot;
  const manifest = loadManifest(root);
  const chapter = findChapter(manifest, number);
  const solutions = options.solutions ?? false;
  const real = options.real ?? false;

  if (real) {
    const verdict = await (options.checkRealMode ?? (async () => (await detectEnvironment()).realMode))();
    if (!verdict.possible) {
      write(`--real is not possible here: ${verdict.reasons.join('; ')}.`);
      write('See `npm run doctor`; without --real the lab runs on the embedded, in-process cluster.');
      return { ok: false, stepsCompleted: 0 };
    }
  }

  if (!existsSync(chapter.paths.lab)) {
    write(`Lab ${number} (${chapter.title}) is not written yet: expected ${chapter.lab}.`);
    return { ok: false, stepsCompleted: 0 };
  }
  let lab: Lab;
  try {
    // Why fresh: in a long-lived process (tests, a future watch mode) an edited lab must be re-read.
    const module = await importFresh(chapter.paths.lab);
    lab = validateLab(module['lab'], chapter.lab, number);
  } catch (err) {
    write(`Lab ${number} cannot start: ${err instanceof Error && err.message.startsWith(chapter.lab) ? err.message : `${chapter.lab} does not load: ${describeLoadError(err)}`}`);
    return { ok: false, stepsCompleted: 0, error: err };
  }

  const seams = await loadSeams(manifest, number, solutions);
  const tmpDir = await mkdtemp(join(tmpdir(), `workbook-lab-${number}-`));
  const cleanups: (() => Promise<void> | void)[] = [];
  const note = (text: string) => write(indent(`Note: ${text}`, '  '));
  const ctx: LabContext = {
    say: (text) => write(indent(text, '  ')),
    show: (label, value) => {
      const text = formatValue(value);
      write(text.includes('\n') ? `  ${label}:\n${indent(text, '    ')}` : `  ${label}: ${text}`);
    },
    note,
    solutions,
    real,
    tmpDir,
    onCleanup: (fn) => {
      cleanups.push(fn);
    },
    impl: makeImpl(seams, root, solutions, number, (text) => write(`  > ${text}`)),
  };

  let cleanedUp = false;
  const cleanUp = async (): Promise<boolean> => {
    if (cleanedUp) return true;
    cleanedUp = true;
    let ok = true;
    // Why last-first: later resources usually depend on earlier ones (a container on its network).
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        ok = false;
        write(`  Cleanup failed: ${(err as Error).message ?? String(err)}`);
      }
    }
    await rm(tmpDir, { recursive: true, force: true });
    return ok;
  };
  const onSignal = () => {
    write('\nInterrupted: cleaning up before exiting...');
    void cleanUp().finally(() => process.exit(130));
  };
  if (options.handleSignals) process.once('SIGINT', onSignal);

  write(heading(`Lab ${number}: ${lab.title}${solutions ? ' (with the worked solutions)' : ''}${real ? ' (real mode)' : ''}`));
  write('');
  write(lab.intro.trim());
  let completed = 0;
  let failure: { step: number; error: unknown } | undefined;
  for (const [index, step] of lab.steps.entries()) {
    write('');
    write(heading(`Step ${index + 1} of ${lab.steps.length}: ${step.title}`, '-'));
    try {
      await step.run(ctx);
      completed += 1;
    } catch (err) {
      failure = { step: index + 1, error: err };
      break;
    }
  }
  const cleanOk = await cleanUp();
  if (options.handleSignals) process.removeListener('SIGINT', onSignal);

  write('');
  if (failure) {
    const err = failure.error;
    write(`Lab ${number} failed at step ${failure.step} (${lab.steps[failure.step - 1]?.title ?? '?'}):`);
    write(indent(err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err), '  '));
    if (err instanceof Error && err.name !== 'CheckFailure' && err.stack) {
      const frames = err.stack.split('\n').filter((l) => l.trim().startsWith('at ')).slice(0, 5);
      if (frames.length) write(indent(frames.map((f) => f.trim()).join('\n'), '    '));
    }
    write('Everything the lab started was cleaned up.');
    return { ok: false, stepsCompleted: completed, failedStep: failure.step, error: err };
  }
  if (!cleanOk) {
    write(`Lab ${number} ran every step, but a cleanup failed (see above).`);
    return { ok: false, stepsCompleted: completed };
  }
  write(`Lab ${number} done.`);
  write(whatNext(chapter, manifest));
  return { ok: true, stepsCompleted: completed };
}
