/**
 * The workbook's command line: `npm start`, `npm run lab|grade|hint|reset|book|read|doctor`.
 * Exit codes: 0 done, 1 something failed (a check, a step, an include), 2 bad usage.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bookCommand, readCommand } from './book.ts';
import { doctorCommand } from './doctor.ts';
import { gradeCommand } from './grade.ts';
import { hintCommand } from './hint.ts';
import { runLab } from './lab.ts';
import { loadManifest, LookupError } from './manifest.ts';
import { projectRoot } from './root.ts';
import { writeStdout, type Write } from './output.ts';
import { resetCommand } from './reset.ts';

/** What `npm run` offers, printed on bad input. */
export const USAGE = `usage:
  npm start                                   the walkthrough (for now: the newest lab)
  npm run lab <N> [-- --solutions] [--real]   run chapter N's lab
  npm run grade [N] [-- --solutions]          grade your exercises (all chapters without N)
  npm run hint <id> [-- --all]                the next hint for exercise <id>, e.g. 1.2
  npm run reset <id|N|all>                    put the pristine stub(s) back
  npm run book                                render chapters/ to book/index.html
  npm run read <N>                            print chapter N in the terminal
  npm run doctor [-- --install]               check this machine for real mode`;

/** Bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Parsed {
  positional: string[];
  flags: Set<string>;
}

function parse(args: string[], allowedFlags: string[], maxPositional: number): Parsed {
  const positional: string[] = [];
  const flags = new Set<string>();
  for (const arg of args) {
    if (arg === '--') continue;
    if (arg.startsWith('--')) {
      if (!allowedFlags.includes(arg)) {
        throw new UsageError(`unknown option ${arg}; expected ${allowedFlags.length ? allowedFlags.join(' or ') : 'no options'}`);
      }
      flags.add(arg);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length > maxPositional) throw new UsageError(`expected at most ${maxPositional} argument${maxPositional === 1 ? '' : 's'}, got ${positional.join(' ')}`);
  return { positional, flags };
}

function chapterNumber(value: string | undefined, what: string): number {
  if (value === undefined) throw new UsageError(`expected a chapter number, as in \`npm run ${what} 1\`, got nothing`);
  if (!/^\d+$/.test(value)) throw new UsageError(`expected a chapter number such as 1, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Runs one command line (without node and the script) and returns the exit code. */
export async function main(argv: string[], write: Write = writeStdout): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start': {
        parse(rest, [], 0);
        // Until the walkthrough exists, the newest chapter's lab is the fullest run of the cluster.
        const newest = Math.max(...loadManifest(projectRoot).chapters.map((c) => c.number));
        write(`The Ink walkthrough of the whole scenario arrives in a later chapter; until then \`npm start\` runs the newest lab, lab ${newest}.\n`);
        return (await runLab(newest, { handleSignals: true }, write)).ok ? 0 : 1;
      }
      case 'lab': {
        const { positional, flags } = parse(rest, ['--solutions', '--real'], 1);
        const result = await runLab(chapterNumber(positional[0], 'lab'), { solutions: flags.has('--solutions'), real: flags.has('--real'), handleSignals: true }, write);
        return result.ok ? 0 : 1;
      }
      case 'grade': {
        const { positional, flags } = parse(rest, ['--solutions'], 1);
        const chapter = positional[0] === undefined ? undefined : chapterNumber(positional[0], 'grade');
        return await gradeCommand({ ...(chapter === undefined ? {} : { chapter }), solutions: flags.has('--solutions') }, write);
      }
      case 'hint': {
        const { positional, flags } = parse(rest, ['--all'], 1);
        const id = positional[0];
        if (id === undefined) throw new UsageError('expected an exercise id, as in `npm run hint 1.2`, got nothing');
        return hintCommand({ id, all: flags.has('--all') }, write);
      }
      case 'reset': {
        const { positional } = parse(rest, [], 1);
        const target = positional[0];
        if (target === undefined) throw new UsageError('expected what to reset: an exercise id (1.2), a chapter number (1) or all');
        if (!/^(all|\d+|\d+\.\d+)$/.test(target)) throw new UsageError(`expected an exercise id (1.2), a chapter number (1) or all, got ${JSON.stringify(target)}`);
        return resetCommand({ target }, write);
      }
      case 'book':
        parse(rest, [], 0);
        return bookCommand({}, write);
      case 'read': {
        const { positional } = parse(rest, [], 1);
        return readCommand({ chapter: chapterNumber(positional[0], 'read') }, write);
      }
      case 'doctor': {
        const { flags } = parse(rest, ['--install'], 0);
        return await doctorCommand({ install: flags.has('--install') }, write);
      }
      default:
        throw new UsageError(command === undefined ? 'expected a command, got nothing' : `unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      write(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    // Why 2: an unknown chapter or exercise id is bad input too, and its message lists the valid ones.
    if (err instanceof LookupError) {
      write(`error: ${err.message}`);
      return 2;
    }
    write(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
