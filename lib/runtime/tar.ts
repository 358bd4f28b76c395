/**
 * A tiny, deterministic tar writer (the POSIX "ustar" format) for image
 * layers. An image layer is nothing more than a tar archive of files; writing
 * it ourselves, with fixed owners and times and sorted entries, makes the
 * same recipe give the same bytes, hence the same digest, on every machine.
 */

/** One entry of a layer: a directory, a regular file, or a symbolic link. */
export type TarEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; data: Uint8Array }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;
// Why 0: a fixed time keeps the layer's digest independent of when it was built.
const MTIME = 0;

/** Checks that a path inside an archive is relative, normalised, and short enough for ustar. */
export function validateEntryPath(path: string): void {
  const parts = path.split('/');
  const bad = path === '' || path.startsWith('/') || path.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..');
  if (bad) throw new Error(`expected a relative path without "", ".", ".." segments or NUL, got ${JSON.stringify(path)}`);
  if (Buffer.byteLength(path) > 99) throw new Error(`expected a path of at most 99 bytes (ustar), got ${path}`);
}

function octal(value: number, width: number): string {
  // Why width-1 digits then NUL: the ustar numeric field convention.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  h.write(name, 0, 100, 'utf8');
  h.write(octal(entry.type === 'symlink' ? 0o777 : entry.mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(MTIME, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum placeholder: eight spaces
  h.write(entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0', 156, 'ascii');
  if (entry.type === 'symlink') h.write(entry.target, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** Adds every missing parent directory (mode 0755), then sorts by path, so the output is canonical. */
export function normaliseEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    validateEntryPath(entry.path);
    if (byPath.has(entry.path)) throw new Error(`expected each path once in a layer, got ${entry.path} twice`);
    byPath.set(entry.path, entry);
  }
  for (const entry of entries) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { type: 'dir', path: parent, mode: 0o755 });
      else if (existing.type !== 'dir') throw new Error(`expected ${parent} to be a directory (it holds ${entry.path}), got a ${existing.type}`);
    }
  }
  // Why compare code units, not localeCompare: the order must not depend on the machine's locale.
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// #region tar-write
/** Writes the entries as one tar archive: sorted, parents first, owner root, mtime 0. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const entry of normaliseEntries(entries)) {
    if (entry.type === 'symlink' && Buffer.byteLength(entry.target) > 100) {
      throw new Error(`expected a symlink target of at most 100 bytes, got ${entry.target}`);
    }
    const data = entry.type === 'file' ? Buffer.from(entry.data) : Buffer.alloc(0);
    chunks.push(header(entry, data.length), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    chunks.push(Buffer.alloc(pad, 0));
  }
  chunks.push(Buffer.alloc(BLOCK * 2, 0)); // two zero blocks end the archive
  return Buffer.concat(chunks);
}
// #endregion tar-write
