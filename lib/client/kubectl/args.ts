/**
 * The command line, parsed the way kubectl's flag library (pflag) reads it:
 * `--name value`, `--name=value`, `-n value`, `-n=value`, `-nvalue`, boolean
 * flags that take no value, and `--` to end the flags. Each command says
 * which flags it takes; anything else is a usage error.
 */

/** A flag a command takes. */
export interface FlagSpec {
  /** The long name, used as `--name`; also the key to read it back. */
  name: string;
  /** The one-letter form, used as `-x`. */
  short?: string;
  /** `list` flags may be given more than once (`-f a.yaml -f b.yaml`). */
  type: 'string' | 'boolean' | 'list';
  /** The value when the flag is given bare; set for `-v`, which means `-v=6`. */
  bareValue?: string;
  /** One line for the usage text. */
  description: string;
}

/** A mistake on the command line: main prints it with the usage text and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A parsed command line: the arguments that are not flags, and the flags by long name. */
export class ParsedArgs {
  constructor(
    readonly positionals: string[],
    private readonly values: Map<string, string | boolean | string[]>,
  ) {}

  /** The value of a string flag, if given. */
  string(name: string): string | undefined {
    const value = this.values.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  /** Whether a boolean flag was given (and not as `--flag=false`). */
  bool(name: string): boolean {
    return this.values.get(name) === true;
  }

  /** Every value of a list flag, in the order given. */
  list(name: string): string[] {
    const value = this.values.get(name);
    return Array.isArray(value) ? value : [];
  }

  /** Whether the flag appeared at all. */
  has(name: string): boolean {
    return this.values.has(name);
  }
}

/** Parses the arguments after the command name against the flags the command takes. */
export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const positionals: string[] = [];
  const values = new Map<string, string | boolean | string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // Why `-` alone is an argument: it means standard input (`apply -f -`).
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const { spec, inline, shown } = findFlag(arg, specs);
    const next = argv[i + 1];
    const { value, usedNext } = flagValue(spec, shown, inline, next);
    if (usedNext) i++;
    store(values, spec, value);
  }
  return new ParsedArgs(positionals, values);
}

/** The spec an argument names, and the value written into it after `=` (or right after a short flag). */
function findFlag(arg: string, specs: FlagSpec[]): { spec: FlagSpec; inline: string | undefined; shown: string } {
  if (arg.startsWith('--')) {
    const [name, ...rest] = arg.slice(2).split('=');
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new UsageError(`unknown flag: --${name}`);
    return { spec, inline: rest.length > 0 ? rest.join('=') : undefined, shown: `--${name}` };
  }
  const letter = arg[1]!;
  const spec = specs.find((s) => s.short === letter);
  if (!spec) throw new UsageError(`unknown shorthand flag: '${letter}' in ${arg}`);
  const after = arg.slice(2);
  // Why both: pflag reads `-n=web` and `-nweb` alike.
  const inline = after === '' ? undefined : after.startsWith('=') ? after.slice(1) : after;
  return { spec, inline, shown: `-${letter}` };
}

/** The flag's value, and whether it was the next argument. */
function flagValue(spec: FlagSpec, shown: string, inline: string | undefined, next: string | undefined): { value: string | boolean; usedNext: boolean } {
  if (spec.type === 'boolean') {
    if (inline === undefined) return { value: true, usedNext: false };
    if (inline !== 'true' && inline !== 'false') throw new UsageError(`expected true or false for ${shown}, got "${inline}"`);
    return { value: inline === 'true', usedNext: false };
  }
  if (inline !== undefined) return { value: inline, usedNext: false };
  if (spec.bareValue !== undefined) {
    // Why only digits: `-v 8` sets the level, but in `get pods -v web` the word is a name, not a level.
    return next !== undefined && /^\d+$/.test(next) ? { value: next, usedNext: true } : { value: spec.bareValue, usedNext: false };
  }
  if (next === undefined) throw new UsageError(`flag needs an argument: ${shown}`);
  return { value: next, usedNext: true };
}

function store(values: Map<string, string | boolean | string[]>, spec: FlagSpec, value: string | boolean): void {
  if (spec.type !== 'list') {
    values.set(spec.name, value);
    return;
  }
  const list = values.get(spec.name);
  values.set(spec.name, [...(Array.isArray(list) ? list : []), String(value)]);
}

/** The flags of a command as usage lines: `  -n, --namespace=''  The namespace ...`. */
export function flagUsage(specs: FlagSpec[]): string {
  const forms = specs.map((spec) => {
    const long = spec.type === 'boolean' ? `--${spec.name}` : `--${spec.name}=...`;
    return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
  });
  const width = Math.max(...forms.map((form) => form.length));
  return specs.map((spec, i) => `  ${forms[i]!.padEnd(width)}  ${spec.description}`).join('\n');
}
