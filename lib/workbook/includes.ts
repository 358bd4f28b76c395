/**
 * Code listings in chapters come from the real source, never pasted: a line
 * `<!-- include: lib/store/mvcc.ts#put -->` in a chapter is replaced by a
 * fenced block holding the region `put` of that file, which the source marks
 * with `// #region put` and `// #endregion put`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { isMachine, machineDiagram } from './diagram.ts';
import { projectRoot, resolveInRoot } from './root.ts';

/** One include that does not resolve: where it is and what was expected. */
export interface Problem {
  /** The chapter file, relative to the project root. */
  file: string;
  /** 1-based line of the include directive. */
  line: number;
  message: string;
}

/** Thrown when a chapter's includes do not resolve; carries every problem found. */
export class IncludeError extends Error {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'IncludeError';
    this.problems = problems;
  }
}

/** Renders a problem as `file:line: message`. */
export function formatProblem(problem: Problem): string {
  return `${problem.file}:${problem.line}: ${problem.message}`;
}

const INCLUDE = /^\s*<!--\s*include:\s*([^\s#]+)(?:#([A-Za-z0-9_.-]+))?\s*-->\s*$/;
const LOOKS_LIKE_INCLUDE = /^\s*<!--\s*include\b/;
const MACHINE = /^\s*<!--\s*machine:\s*([^\s#]+)#([A-Za-z0-9_]+)\s*-->\s*$/;
const requireHere = createRequire(import.meta.url);

/**
 * A `<!-- machine: path#exportName -->` directive becomes a state diagram
 * generated from that exported XState machine.
 */
function machineListing(path: string, exportName: string, root: string): string {
  let module: Record<string, unknown>;
  try {
    // Why require and not import: the book is rendered synchronously, and tsx lets require load TypeScript.
    module = requireHere(resolveInRoot(root, path)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`expected ${path} to load, but it failed: ${(err as Error).message.split('\n')[0]}`);
  }
  const machine = module[exportName];
  if (!isMachine(machine)) throw new Error(`expected ${path} to export an XState machine named ${exportName}, got ${typeof machine}`);
  return fence(machineDiagram(machine), 'mermaid', `${path}#${exportName} (generated from the machine)`);
}
const MARKER = /^\s*(?:\/\/|#)\s*#(region|endregion)\b\s*(\S*)\s*$/;
const FENCE = /^\s*(`{3,}|~{3,})/;

/** Parses an include directive line: the path and the region (null for the whole file), or null when the line is not one. */
export function parseInclude(line: string): { path: string; region: string | null } | null {
  const match = INCLUDE.exec(line);
  if (!match || match[1] === undefined) return null;
  return { path: match[1], region: match[2] ?? null };
}

/** Removes the indentation all non-blank lines share. */
export function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0);
  const common = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(common)));
}

/**
 * Returns the text of `region` in `source` (the whole file when region is
 * null), without any region marker lines and with common indentation removed.
 * Throws an Error saying what was expected when the region is missing,
 * duplicated, never closed or empty. `file` is only used in messages.
 */
export function extractRegion(source: string, region: string | null, file: string): string {
  const lines = source.split(/\r?\n/);
  let body: string[];
  if (region === null) {
    body = lines;
  } else {
    const opens: number[] = [];
    lines.forEach((line, i) => {
      const m = MARKER.exec(line);
      if (m?.[1] === 'region' && m[2] === region) opens.push(i);
    });
    const open = opens[0];
    if (open === undefined) throw new Error(`expected a line \`// #region ${region}\` in ${file}, found none`);
    if (opens.length > 1) {
      throw new Error(`expected one \`// #region ${region}\` in ${file}, found ${opens.length} (lines ${opens.map((i) => i + 1).join(', ')})`);
    }
    const close = lines.findIndex((line, i) => {
      const m = MARKER.exec(line);
      return i > open && m?.[1] === 'endregion' && m[2] === region;
    });
    if (close === -1) {
      throw new Error(`region ${region} opens at line ${open + 1} of ${file} but is never closed: expected a line \`// #endregion ${region}\` after it`);
    }
    body = lines.slice(open + 1, close);
  }
  // Why drop every marker: regions may nest or overlap, and no marker belongs in a listing.
  body = body.filter((line) => !MARKER.test(line));
  while (body.length && body[0]?.trim() === '') body.shift();
  while (body.length && body[body.length - 1]?.trim() === '') body.pop();
  if (body.length === 0) {
    throw new Error(region === null ? `expected ${file} to have some content, but it is empty` : `expected region ${region} of ${file} to hold some code, but it is empty`);
  }
  return dedent(body).join('\n');
}

const LANGUAGES: Record<string, string> = {
  '.ts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml',
  '.sh': 'sh', '.proto': 'protobuf', '.md': 'markdown', '.html': 'html', '.css': 'css',
};

/** The fence language for a file, from its extension. */
export function languageOf(path: string): string {
  return LANGUAGES[extname(path)] ?? 'text';
}

/** Wraps code in a fence longer than any backtick run inside it, with the language and the source as info. */
export function fence(code: string, language: string, source: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language} ${source}\n${code}\n${ticks}`;
}

/**
 * Replaces every include directive in a chapter with its fenced listing.
 * Directives inside fenced code blocks are left alone (they are examples).
 * Returns the new Markdown and the problems; the Markdown is only right when
 * there are none.
 */
export function expandIncludes(markdown: string, chapterFile: string, root: string = projectRoot): { markdown: string; problems: Problem[] } {
  const problems: Problem[] = [];
  const out: string[] = [];
  let openFence: string | null = null;
  markdown.split(/\r?\n/).forEach((line, index) => {
    const fenceMatch = FENCE.exec(line);
    if (fenceMatch?.[1]) {
      const marker = fenceMatch[1];
      // Why compare the marker: a fence closes only with the same character, at least as long.
      if (openFence === null) openFence = marker;
      else if (marker[0] === openFence[0] && marker.length >= openFence.length && line.trim() === marker) openFence = null;
      out.push(line);
      return;
    }
    const machineMatch = openFence === null ? MACHINE.exec(line) : null;
    if (machineMatch?.[1] && machineMatch[2]) {
      try {
        out.push(machineListing(machineMatch[1], machineMatch[2], root));
      } catch (err) {
        problems.push({ file: chapterFile, line: index + 1, message: `machine ${machineMatch[1]}#${machineMatch[2]}: ${(err as Error).message}` });
      }
      return;
    }
    if (openFence !== null || !LOOKS_LIKE_INCLUDE.test(line)) {
      out.push(line);
      return;
    }
    const where = { file: chapterFile, line: index + 1 };
    const include = parseInclude(line);
    if (!include) {
      problems.push({ ...where, message: `malformed include: expected \`<!-- include: path/to/file.ts#region -->\` on a line of its own, got ${JSON.stringify(line.trim())}` });
      return;
    }
    const label = `include ${include.path}${include.region ? `#${include.region}` : ''}`;
    try {
      const full = resolveInRoot(root, include.path);
      let source: string;
      try {
        source = readFileSync(full, 'utf8');
      } catch {
        throw new Error(`expected the file ${include.path} to exist, but it cannot be read`);
      }
      const code = extractRegion(source, include.region, include.path);
      out.push(fence(code, languageOf(include.path), `${include.path}${include.region ? `#${include.region}` : ''}`));
    } catch (err) {
      problems.push({ ...where, message: `${label}: ${(err as Error).message}` });
    }
  });
  return { markdown: out.join('\n'), problems };
}

/** Like expandIncludes, but throws an IncludeError listing every problem. */
export function resolveIncludes(markdown: string, chapterFile: string, root: string = projectRoot): string {
  const { markdown: expanded, problems } = expandIncludes(markdown, chapterFile, root);
  if (problems.length > 0) throw new IncludeError(problems);
  return expanded;
}

/** The chapter files present under chapters/, relative to the root, sorted by name. */
export function chapterFiles(root: string = projectRoot): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, 'chapters'));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.md')).sort().map((n) => `chapters/${n}`);
}

/** Checks every include of every chapter present; an empty list means all resolve. */
export function checkIncludes(root: string = projectRoot): Problem[] {
  return chapterFiles(root).flatMap((file) => expandIncludes(readFileSync(join(root, file), 'utf8'), file, root).problems);
}
