/**
 * What every component that runs as its own process does at the edges: run
 * until SIGTERM or SIGINT, then stop cleanly; and start only when the file
 * is the program being run (not when a test imports it).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeClient } from './client.ts';
import { loadContext } from './kubeconfig.ts';

/** Waits for SIGTERM or SIGINT, then says so, runs `stop` once and exits 0. Never resolves. */
export function runUntilSignal(what: string, stop: () => Promise<void>): Promise<number> {
  let stopping = false;
  const onSignal = async (signal: string) => {
    // Why once: a second Ctrl-C while stopping must not start a second stop.
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping ${what}`);
    await stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
  process.on('SIGINT', () => void onSignal('SIGINT'));
  return new Promise<number>(() => {});
}

/** Runs `main` with the command line when `moduleUrl` is the program node was started with; an error becomes a message and exit code 1. */
export function runIfMain(moduleUrl: string, main: (args: string[]) => Promise<number>): void {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== resolve(process.argv[1])) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}

/** The value after `name` on a command line (`--kubeconfig FILE`), or undefined when it is not there. */
export function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A client acting as the user of a kubeconfig file, and who and where that is (for the start-up line). */
export function clientFromKubeconfig(path: string, userAgent: string): { client: KubeClient; user: string; server: string } {
  const context = loadContext({ path });
  return { client: new KubeClient({ server: context.server, ca: context.ca, token: context.token, userAgent }), user: context.user, server: context.server };
}
