/**
 * Test helpers for real mode: skip a test, with the reason and the fix, when a
 * tool is missing, except in CI, where a skipped real-mode test is a failure.
 */
import { debianPackageOf, KUBECTL_ADVICE, locateTool, busyboxProblem, type ToolName } from './doctor.ts';

/** What node:test's `skip` option takes: false to run, or the reason for skipping. */
export interface SkipOption {
  skip: false | string;
}

/** Injection points for tests of this module. */
export interface RealModeProbe {
  env?: NodeJS.ProcessEnv;
  locate?: (name: ToolName) => string | null;
  uid?: number | null;
  platform?: NodeJS.Platform;
}

function installAdvice(name: ToolName): string {
  const pkg = debianPackageOf(name);
  return pkg ? `install it with \`apt-get install -y ${pkg}\` or \`sudo npm run doctor -- --install\`` : KUBECTL_ADVICE;
}

function skipOrThrow(reason: string, env: NodeJS.ProcessEnv): SkipOption {
  // Why throw in CI: CI installs every tool, so a skip there means the real
  // mode was never tested, which must not pass silently.
  if (env['CI'] === 'true') throw new Error(`real-mode tests must not skip in CI, but ${reason}`);
  return { skip: reason };
}

/**
 * For `test(name, requireTool('runc'), fn)`: `{ skip: false }` when the tool
 * is installed (and usable), else `{ skip: reason }`; throws when CI=true.
 */
export function requireTool(name: ToolName, probe: RealModeProbe = {}): SkipOption {
  const env = probe.env ?? process.env;
  const path = (probe.locate ?? ((n: ToolName) => locateTool(n, env)))(name);
  if (path === null) return skipOrThrow(`${name} is not installed (${installAdvice(name)})`, env);
  // Why only without an injected locate: an injected path is made up and cannot be read as ELF.
  if (name === 'busybox' && !probe.locate) {
    const problem = busyboxProblem(path);
    if (problem) return skipOrThrow(`busybox at ${path} is ${problem} (${installAdvice(name)})`, env);
  }
  return { skip: false };
}

/** For tests that need real mode itself: Linux, root, and every listed tool. */
export function requireRealMode(tools: ToolName[] = [], probe: RealModeProbe = {}): SkipOption {
  const env = probe.env ?? process.env;
  const platform = probe.platform ?? process.platform;
  if (platform !== 'linux') return skipOrThrow(`real mode needs Linux, and this is ${platform}`, env);
  const uid = probe.uid !== undefined ? probe.uid : typeof process.geteuid === 'function' ? process.geteuid() : null;
  if (uid !== 0) return skipOrThrow(`real mode needs root, and this runs as uid ${uid ?? 'unknown'} (run the tests with sudo)`, env);
  for (const tool of tools) {
    const result = requireTool(tool, probe);
    if (result.skip !== false) return result;
  }
  return { skip: false };
}
