/**
 * The shape of an exercise check. A chapter's checks module exports
 * `checks: Record<string, Check[]>`, keyed by exercise id ("1.1").
 */

/**
 * One named check of an exercise: `run` receives the imported exercise module
 * and throws (a CheckFailure, or any error) to fail; a TodoError means the
 * exercise is not started yet.
 */
export interface Check {
  name: string;
  run(impl: Record<string, unknown>): void | Promise<void>;
}
