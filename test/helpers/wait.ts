/**
 * Waiting for a condition in tests: poll until the probe returns a value,
 * with a generous timeout, never a fixed sleep (the machine is shared and
 * noisy). One implementation serves labs, checks and tests.
 */
export { waitUntil as eventually } from '../../lib/workbook/waiting.ts';
