/**
 * The simulated programs the sim runtime runs instead of real processes. What
 * a container does is decided from its argv, the process Kubernetes chose
 * from the image's Entrypoint and Cmd and the Pod's command and args (see
 * `containerArgs` in runc.ts), in a documented, deterministic way (see
 * `programFor`):
 *
 * - `sh -c "<script>"` (any image) runs a tiny subset of sh: simple commands
 *   joined by `&&` or `;`. The commands: `echo WORDS` (a log line), `sleep N`
 *   (N seconds, decimals allowed, on the injected clock; `sleep infinity`
 *   never ends), `exit N`, `true`, `false`, `touch PATH...`, `rm [-f] PATH...`
 *   and `cat PATH` (on a tiny in-memory filesystem per container). Single and
 *   double quotes group words; nothing is expanded. A script using anything
 *   else (pipes, `||`, loops, `$VAR`, unknown commands) runs forever, as a
 *   long-running program would.
 * - The same commands given directly as the argv (`["sleep", "3600"]`) run as
 *   a one-command script.
 * - `sh` alone (busybox's Cmd) has no stdin in a container and so exits 0 at
 *   once, as the real image does: the classic way to get a CrashLoopBackOff.
 * - `httpd ... -p PORT` (what the backend, frontend and nginx images run)
 *   writes a startup line to its log and serves PORT (80 when not given) until
 *   it is stopped; so does an image's own program (`/usr/local/bin/<name>`)
 *   when the image is a server.
 * - Anything else runs forever.
 */
import type { Clock } from '../client/client.ts';

// #region sim-steps
/** One simple command of the subset. */
export type Step =
  | { op: 'echo'; text: string }
  | { op: 'sleep'; seconds: number }
  | { op: 'exit'; code: number }
  | { op: 'status'; code: number }
  | { op: 'touch'; paths: string[] }
  | { op: 'rm'; paths: string[]; force: boolean }
  | { op: 'cat'; path: string }
  | { op: 'serve'; port: number }
  | { op: 'forever' };

/** A step and how it joins the one before: `&&` runs it only if the last status was 0. */
export interface Command {
  step: Step;
  after: '&&' | ';';
}
// #endregion sim-steps

/** What the sim knows about an image: its server port and startup line, if it is a server. */
export interface SimImageProfile {
  /** Familiar name without tag, e.g. "backend". */
  name: string;
  /** The port its own program serves on, and what that program prints when it starts (busybox httpd prints nothing). */
  server?: { port: number; startupLine?: string };
}

/** Splits a script into words and the operators `&&` and `;`; undefined when it uses any other shell syntax. */
export function tokenize(script: string): string[] | undefined {
  const tokens: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'" || c === '"') {
      const end = script.indexOf(c, i + 1);
      if (end < 0) return undefined;
      word = (word ?? '') + script.slice(i + 1, end);
      i = end;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) tokens.push(word);
      word = undefined;
    } else if (c === ';' || (c === '&' && script[i + 1] === '&')) {
      if (word !== undefined) tokens.push(word);
      word = undefined;
      tokens.push(c === ';' ? ';' : '&&');
      if (c === '&') i++;
    } else if ('|&<>$`(){}\\*?'.includes(c)) {
      // Why: pipes, redirections, expansions and globs are outside the subset; the caller decides what that means.
      return undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) tokens.push(word);
  return tokens;
}

/** Parses one simple command of the subset; undefined when it is not one. */
export function parseStep(words: readonly string[]): Step | undefined {
  const [name, ...rest] = words;
  switch (name) {
    case 'echo':
      return { op: 'echo', text: rest.join(' ') };
    case 'sleep': {
      if (rest.length !== 1) return undefined;
      const seconds = rest[0] === 'infinity' ? Infinity : Number(rest[0]);
      return Number.isFinite(seconds) || seconds === Infinity ? (seconds >= 0 ? { op: 'sleep', seconds } : undefined) : undefined;
    }
    case 'exit': {
      const code = rest.length === 0 ? 0 : Number(rest[0]);
      return Number.isInteger(code) && rest.length <= 1 ? { op: 'exit', code: ((code % 256) + 256) % 256 } : undefined;
    }
    case 'true':
    case 'false':
      return rest.length === 0 ? { op: 'status', code: name === 'true' ? 0 : 1 } : undefined;
    case 'touch':
      return rest.length > 0 ? { op: 'touch', paths: rest } : undefined;
    case 'rm': {
      const force = rest[0] === '-f' || rest[0] === '-rf';
      const paths = force ? rest.slice(1) : rest;
      return paths.length > 0 && !paths.some((p) => p.startsWith('-')) ? { op: 'rm', paths, force } : undefined;
    }
    case 'cat':
      return rest.length === 1 ? { op: 'cat', path: rest[0]! } : undefined;
    default:
      return undefined;
  }
}

/** Parses `sh -c` script text into commands; undefined when it leaves the subset. */
export function parseScript(script: string): Command[] | undefined {
  const tokens = tokenize(script);
  if (!tokens) return undefined;
  const commands: Command[] = [];
  let words: string[] = [];
  let after: Command['after'] = ';';
  for (const token of [...tokens, ';']) {
    if (token !== '&&' && token !== ';') {
      words.push(token);
      continue;
    }
    // Why: an empty command between operators (";;", "&& ;") is a shell syntax error, but a trailing ";" is fine.
    if (words.length === 0) {
      if (token === '&&' || commands.length === 0 || after === '&&') return undefined;
      continue;
    }
    const step = parseStep(words);
    if (!step) return undefined;
    commands.push({ step, after });
    words = [];
    after = token;
  }
  return commands;
}

/** The argv as a script when it is `sh -c "<script>"` (or `/bin/sh -c`). */
function shellScript(argv: readonly string[]): string | undefined {
  const [shell, flag, script] = argv;
  return (shell === 'sh' || shell === '/bin/sh') && flag === '-c' && script !== undefined ? script : undefined;
}

// #region program-for
/** Decides what a container runs from its image and its argv (the process chosen by `containerArgs`), as documented at the top of this file. */
export function programFor(image: SimImageProfile, argv: readonly string[]): Command[] {
  // Why look through /bin/pid1: it only runs the rest of the argv as its child (and passes SIGTERM on).
  if (basename(argv[0] ?? '') === 'pid1') return programFor(image, argv.slice(1));
  const forever: Command[] = [{ step: { op: 'forever' }, after: ';' }];
  const script = shellScript(argv);
  if (script !== undefined) return parseScript(script) ?? forever;
  const direct = argv.length > 0 ? parseStep(argv) : undefined;
  if (direct) return [{ step: direct, after: ';' }];
  const program = basename(argv[0] ?? '');
  // Why: a shell with no script reads an empty stdin in a container and exits 0 at once.
  if ((program === 'sh' || program === 'ash') && argv.length === 1) return [];
  if (program === 'httpd') return serve(image, httpdPort(argv));
  if (image.server && program === image.name) return serve(image, image.server.port);
  return forever;
}
// #endregion program-for

// #region handles-sigterm
/**
 * Whether the program a container runs acts on SIGTERM. Every container's
 * first process is PID 1 in its own PID namespace, and the kernel gives
 * PID 1 only the signals it installed a handler for: `sleep`, `sh` and
 * busybox `httpd` install none, so they ignore SIGTERM and are killed when
 * the grace period is over. A shell that traps TERM, the images' /bin/pid1
 * (which passes it on to the server), and the control-plane programs
 * (written in Go, which handle SIGTERM) do stop.
 */
export function handlesSigterm(image: SimImageProfile, argv: readonly string[]): boolean {
  const program = basename(argv[0] ?? '');
  if (program === 'pid1') return true;
  const script = shellScript(argv);
  // Why not `trap '' TERM`: an empty action means "ignore", which is the opposite of a handler.
  if (script !== undefined) return /\btrap\s+("[^"]+"|'[^']+'|[^\s'"]+)\s+[^;&]*\bTERM\b/.test(script);
  return image.server !== undefined && program === image.name;
}
// #endregion handles-sigterm

/** Writes the server's startup line, if its program prints one, then serves `port` until stopped. */
function serve(image: SimImageProfile, port: number): Command[] {
  // Why the image's line only on its own port: the line names the port its program serves by default.
  const line = image.server?.port === port ? image.server.startupLine : undefined;
  const serving: Command = { step: { op: 'serve', port }, after: ';' };
  return line === undefined ? [serving] : [{ step: { op: 'echo', text: line }, after: ';' }, serving];
}

/** The port of an `httpd` argv: the last `-p` wins, as with getopt; 80 when there is none. */
function httpdPort(argv: readonly string[]): number {
  let port = 80;
  for (let i = 1; i < argv.length - 1; i++) {
    const value = Number(argv[i + 1]);
    if (argv[i] === '-p' && Number.isInteger(value) && value > 0 && value < 65536) port = value;
  }
  return port;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}


/** What `exec` runs: the subset, where anything outside it simply succeeds (so unknown exec probes pass). */
export function execProgram(argv: readonly string[]): Command[] {
  const script = shellScript(argv);
  const parsed = script !== undefined ? parseScript(script) : argv.length > 0 ? wrap(parseStep(argv)) : [];
  return parsed ?? [{ step: { op: 'status', code: 0 }, after: ';' }];
}

function wrap(step: Step | undefined): Command[] | undefined {
  return step ? [{ step, after: ';' }] : undefined;
}

/** What a simulated process needs from its container. */
export interface ProcessHost {
  clock: Clock;
  /** The container's in-memory filesystem: the set of paths that exist. */
  files: Set<string>;
  write(line: string, stream?: 'stdout' | 'stderr'): void;
  listen(port: number): void;
}

// #region sim-process
/** Runs commands on the injected clock, one at a time; `onExit` is called once with the exit code. */
export class SimProcess {
  private cursor = 0;
  private status = 0;
  private timer: unknown;
  private done = false;

  constructor(
    private readonly commands: readonly Command[],
    private readonly host: ProcessHost,
    private readonly onExit: (exitCode: number) => void,
  ) {}

  /** Runs until the first wait (a sleep or a server) or the end. */
  start(): void {
    this.resume();
  }

  /** Ends the process now with `exitCode` (a signal's 128+n), cancelling any sleep. */
  kill(exitCode: number): void {
    if (this.done) return;
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.finish(exitCode);
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.done;
  }

  private resume(): void {
    while (!this.done && this.cursor < this.commands.length) {
      const { step, after } = this.commands[this.cursor++]!;
      // Why: `a && b` skips b when a failed, and the failure's status carries on to the next operator.
      if (after === '&&' && this.status !== 0) continue;
      if (!this.execute(step)) return;
    }
    if (!this.done) this.finish(this.status);
  }

  /** Runs one step; false when the process now waits. */
  private execute(step: Step): boolean {
    const { host } = this;
    switch (step.op) {
      case 'echo':
        host.write(step.text);
        this.status = 0;
        return true;
      case 'status':
        this.status = step.code;
        return true;
      case 'exit':
        this.finish(step.code);
        return false;
      case 'touch':
        for (const path of step.paths) host.files.add(path);
        this.status = 0;
        return true;
      case 'rm':
        this.status = 0;
        for (const path of step.paths) {
          if (host.files.delete(path) || step.force) continue;
          host.write(`rm: can't remove '${path}': No such file or directory`, 'stderr');
          this.status = 1;
        }
        return true;
      case 'cat':
        if (host.files.has(step.path)) {
          this.status = 0;
        } else {
          host.write(`cat: can't open '${step.path}': No such file or directory`, 'stderr');
          this.status = 1;
        }
        return true;
      case 'sleep':
        this.status = 0;
        // Why: `sleep infinity` never wakes; setting no timer keeps a fake clock's queue clean.
        if (step.seconds !== Infinity) this.timer = host.clock.setTimeout(() => this.wake(), step.seconds * 1000);
        return false;
      case 'serve':
        host.listen(step.port);
        return false;
      case 'forever':
        return false;
    }
  }

  private wake(): void {
    this.timer = undefined;
    this.resume();
  }

  private finish(exitCode: number): void {
    this.done = true;
    this.onExit(exitCode);
  }
}
// #endregion sim-process
