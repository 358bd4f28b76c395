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

/**
 * Wraps each of a component's seam functions so that a TODO thrown deep
 * inside the running component (where it would only become a 500 or a
 * retried reconcile) is remembered; checks re-throw `seen()` so the grader
 * says "not started" rather than "failed" or "timed out".
 */
export function noticeTodos<T extends object>(given: T): { wrapped: T; seen(): TodoError | undefined } {
  let first: TodoError | undefined;
  const wrapped: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(given)) {
    wrapped[name] = (...args: unknown[]) => {
      try {
        return (f as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        if (isTodo(error)) first ??= error;
        throw error;
      }
    };
  }
  return { wrapped: wrapped as T, seen: () => first };
}
