/**
 * Hints in levels: each `npm run hint <id>` shows the next level (a nudge,
 * then the API to use, then nearly the answer) and remembers it.
 */
import { findExercise, loadManifest } from './manifest.ts';
import { indent, type Write } from './output.ts';
import { loadProgress, saveProgress } from './progress.ts';
import { displayPath, projectRoot } from './root.ts';

/** `npm run hint <id> [-- --all]`: prints the next hint (or all) and records the level; returns the exit code. */
export function hintCommand(options: { id: string; all: boolean; root?: string }, write: Write): number {
  const root = options.root ?? projectRoot;
  const manifest = loadManifest(root);
  const exercise = findExercise(manifest, options.id);
  const { progress, resetReason } = loadProgress(root);
  if (resetReason) write(`(${resetReason})`);
  const entry = (progress.exercises[exercise.id] ??= {});
  const total = exercise.hints.length;
  const shown = Math.min(entry.hintLevel ?? 0, total);
  const file = displayPath(root, exercise.paths.labs);

  write(`Exercise ${exercise.id}: ${exercise.title} (${file}, export ${exercise.export})`);
  write(indent(exercise.task, '  '));
  write('');
  if (options.all) {
    exercise.hints.forEach((hint, i) => write(`Hint ${i + 1} of ${total}:\n${indent(hint, '  ')}`));
    entry.hintLevel = total;
  } else {
    // Why stay on the last level: asking again after the last hint repeats it rather than failing.
    const level = Math.min(shown + 1, total);
    write(`Hint ${level} of ${total}:\n${indent(exercise.hints[level - 1] ?? '', '  ')}`);
    entry.hintLevel = level;
  }
  write('');
  if (entry.hintLevel < total) {
    write(`More: \`npm run hint ${exercise.id}\` for hint ${entry.hintLevel + 1}.`);
  } else {
    write(`That was the last hint. The worked answer, with comments: ${displayPath(root, exercise.paths.solutions)}`);
  }
  saveProgress(root, progress);
  return 0;
}
