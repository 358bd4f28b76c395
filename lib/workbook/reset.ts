/**
 * Reset: copies pristine stubs from labs/.stubs/ back over the learner's
 * files, for one exercise, one chapter or everything, and forgets the
 * matching progress. It asks nothing: the stubs are what a fresh clone has.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { allExercises, findChapter, findExercise, loadManifest, type Exercise } from './manifest.ts';
import type { Write } from './output.ts';
import { updateProgress } from './progress.ts';
import { displayPath, projectRoot } from './root.ts';

/** Which exercises a reset target names: an id ("1.2"), a chapter ("1") or "all". */
export function resetTargets(target: string, root: string = projectRoot): Exercise[] {
  const manifest = loadManifest(root);
  if (target === 'all') return allExercises(manifest);
  if (/^\d+$/.test(target)) return findChapter(manifest, Number(target)).exercises;
  if (/^\d+\.\d+$/.test(target)) return [findExercise(manifest, target)];
  throw new Error(`expected an exercise id (1.2), a chapter number (1) or "all", got ${JSON.stringify(target)}`);
}

/** Restores one exercise's stub over the learner's file; throws when the stub is missing. */
export function restoreStub(exercise: Exercise): void {
  if (!existsSync(exercise.paths.stubs)) {
    throw new Error(`exercise ${exercise.id}: expected its pristine stub at ${exercise.paths.stubs}, but it is missing`);
  }
  // Why mkdir: the learner may have deleted the whole chapter folder.
  mkdirSync(dirname(exercise.paths.labs), { recursive: true });
  copyFileSync(exercise.paths.stubs, exercise.paths.labs);
}

/** `npm run reset <id|N|all>`: restores the stubs and clears their progress; returns the exit code. */
export function resetCommand(options: { target: string; root?: string }, write: Write): number {
  const root = options.root ?? projectRoot;
  const exercises = resetTargets(options.target, root);
  if (exercises.length === 0) {
    write(options.target === 'all' ? 'No chapter has exercises yet; nothing to reset.' : `Chapter ${options.target} has no exercises; nothing to reset.`);
    return 0;
  }
  let failed = 0;
  const restored: string[] = [];
  for (const exercise of exercises) {
    try {
      restoreStub(exercise);
      restored.push(exercise.id);
      write(`restored ${displayPath(root, exercise.paths.labs)} (exercise ${exercise.id}) from ${displayPath(root, exercise.paths.stubs)}`);
    } catch (err) {
      failed += 1;
      write(`could not reset ${exercise.id}: ${(err as Error).message}`);
    }
  }
  const note = updateProgress(root, (progress) => {
    // Why only the restored ones: progress of an exercise whose file was kept stays true.
    for (const id of restored) delete progress.exercises[id];
  });
  if (note) write(`(${note})`);
  write(`Progress cleared for ${restored.length === 1 ? `exercise ${restored[0]}` : `${restored.length} exercises`}.`);
  return failed === 0 ? 0 : 1;
}
