/**
 * Column alignment as kubectl does it with Go's text/tabwriter: each line is
 * cells separated by tabs, and a cell is padded to the widest cell of its
 * column. A "column" is only as long as the run of consecutive lines that
 * have a cell there, so a line without tabs (`Containers:` in describe) ends
 * the alignment above it; that is why describe's sections line up on their own.
 */

/** How to pad: kubectl get uses padding 3 and minimum width 6; describe uses padding 2. */
export interface TabOptions {
  /** Spaces after the widest cell of a column. */
  padding: number;
  /** The least width of a padded cell, padding included. */
  minWidth?: number;
  /**
   * Widths remembered from earlier calls, grown in place. `kubectl get -w`
   * prints one row per event, and remembering keeps it under the header.
   */
  remembered?: number[];
}

/** Lays out tab-separated lines in aligned columns; the last cell of each line is never padded. */
export function alignColumns(lines: string[], options: TabOptions): string[] {
  const cells = lines.map((line) => line.split('\t'));
  const out: string[] = [];
  layout(0, cells.length, []);
  return out;

  // Lines [first, end) share the column widths found so far; find the blocks of the next column.
  function layout(first: number, end: number, widths: number[]): void {
    const column = widths.length;
    let line = first;
    while (line < end) {
      if (!hasCellIn(line, column)) {
        out[line] = render(cells[line]!, widths);
        line++;
        continue;
      }
      let blockEnd = line;
      let width = options.minWidth ?? 0;
      while (blockEnd < end && hasCellIn(blockEnd, column)) {
        width = Math.max(width, cells[blockEnd]![column]!.length + options.padding);
        blockEnd++;
      }
      layout(line, blockEnd, [...widths, remember(column, width)]);
      line = blockEnd;
    }
  }

  // Why "- 1": the text after the last tab is not a cell of any column; it is printed as is.
  function hasCellIn(line: number, column: number): boolean {
    return column < cells[line]!.length - 1;
  }

  function remember(column: number, width: number): number {
    const remembered = options.remembered;
    if (!remembered) return width;
    remembered[column] = Math.max(remembered[column] ?? 0, width);
    return remembered[column]!;
  }
}

function render(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join('');
}
