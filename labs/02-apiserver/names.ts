/**
 * Exercise 2.1: is this a valid object name?
 *
 * Most objects (Pods, Deployments, ReplicaSets, ConfigMaps, Nodes...) must be
 * named as a DNS-1123 subdomain, so a name can be part of a DNS name:
 *   - at most 253 characters;
 *   - lower-case letters, digits, '-' and '.';
 *   - each dot-separated part starts and ends with a letter or digit.
 * `backend`, `web-1`, `api.example.com` are valid; `Backend`, `web_1`, `-web`,
 * `web.` and the empty string are not.
 *
 * The API server calls your function for every object it validates, and a
 * name with problems is refused with 422 Invalid, quoting what you return.
 *
 * Run `npm run grade 2` to check your work, `npm run hint 2.1` when stuck.
 */
import { todo } from '#lib/workbook/todo.ts';

/** What is wrong with `value` as a DNS-1123 subdomain: one message per problem, none when it is valid. */
export function isDNS1123Subdomain(value: string): string[] {
  // TODO: return [] for a valid name; otherwise a message for each rule it
  // breaks (too long; characters or shape not allowed).
  return todo('2.1');
}
