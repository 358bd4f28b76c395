/**
 * The marker an exercise stub throws until the learner writes it. The lab
 * runner recognises it and falls back to the reference, saying so; the grader
 * reports the exercise as "not started" rather than failed.
 */
export class TodoError extends Error {
  readonly exercise: string;

  constructor(exercise: string) {
    super(`exercise ${exercise} is not written yet (the stub still throws TODO)`);
    this.name = 'TodoError';
    this.exercise = exercise;
  }
}

/** Throws the TODO marker for an exercise; a stub's body is `return todo('1.1')`. */
export function todo(exercise: string): never {
  throw new TodoError(exercise);
}

/** True when `err` is the TODO marker of an untouched stub. */
export function isTodo(err: unknown): err is TodoError {
  return err instanceof Error && err.name === 'TodoError';
}
