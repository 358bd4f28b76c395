/**
 * Plain-text output helpers shared by the workbook commands: a writer that
 * tests can replace, indentation, pretty values and simple tables.
 */

/** Writes one chunk of text followed by a newline; tests pass a collecting writer. */
export type Write = (text: string) => void;

/** The default writer: standard output. */
export const writeStdout: Write = (text) => {
  process.stdout.write(`${text}\n`);
};

/** A writer that collects lines into an array, and the array, for tests. */
export function collectingWriter(): { write: Write; lines: string[]; text(): string } {
  const lines: string[] = [];
  return { write: (text) => lines.push(...text.split('\n')), lines, text: () => lines.join('\n') };
}

/** Prefixes every line of `text` with `prefix` (blank lines stay blank). */
export function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : prefix + line))
    .join('\n');
}

/**
 * Renders a value for reading: text as is, Buffers as text, everything else
 * as indented JSON (Maps as objects, Sets as arrays, bigints as numbers' text).
 */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(
    value,
    function replacer(this: Record<string, unknown>, key: string, current: unknown) {
      // Why `this[key]`: JSON.stringify has already applied Buffer#toJSON to
      // `current`; the holder still has the Buffer itself.
      const original = this[key];
      if (Buffer.isBuffer(original)) return original.toString('utf8');
      if (original instanceof Map) return Object.fromEntries(original);
      if (original instanceof Set) return [...original];
      if (typeof current === 'bigint') return current.toString();
      return current;
    },
    2,
  );
  return text ?? String(value);
}

/** Lays out rows under a header in left-aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A heading line with a rule beneath, sized to the text. */
export function heading(text: string, rule = '='): string {
  return `${text}\n${rule.repeat(Math.min(text.length, 78))}`;
}
