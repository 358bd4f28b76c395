/**
 * The write-ahead log: every write request is appended here, with a checksum,
 * and flushed to disk (fsync) before the store applies and acknowledges it.
 * Several requests that arrive while a flush is in progress share the next
 * flush ("group commit"), so a busy store pays for one fsync per batch, not
 * per request. Segments are preallocated, so zeros after the last record mean
 * "end of log". On start the log is read back; a torn or corrupt record at the
 * very end (a write that was never acknowledged) is cut off, while corruption
 * followed by good records refuses to start.
 */
import { closeSync, constants, writeSync, fsyncSync, openSync, readdirSync, readFileSync, ftruncateSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** Marks the start of every record, so a reader can find records after damage. */
const MAGIC = 0x4b57414c; // "KWAL"
/** magic (4) + payload length (4) + crc32 of index and payload (4) + index (8). */
export const HEADER_BYTES = 20;

/** One logged record: its position in the log and the request it carries. */
export interface WalRecord {
  index: number;
  payload: Buffer;
}

/** Raised when the log is damaged somewhere other than its tail. */
export class WalCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalCorruptError';
  }
}

// #region encode-record
/** Frames one record: a fixed header with the checksum, then the payload. */
export function encodeRecord(record: WalRecord): Buffer {
  const frame = Buffer.alloc(HEADER_BYTES + record.payload.length);
  frame.writeUInt32BE(MAGIC, 0);
  frame.writeUInt32BE(record.payload.length, 4);
  frame.writeBigUInt64BE(BigInt(record.index), 12);
  record.payload.copy(frame, HEADER_BYTES);
  frame.writeUInt32BE(crc32(frame.subarray(12)), 8);
  return frame;
}
// #endregion encode-record

// #region decode-record
/**
 * Reads the record starting at `offset`, or explains why there is no valid
 * record there ('short' when the file ends inside it, 'bad' otherwise).
 */
export function decodeRecord(buf: Buffer, offset: number): { record: WalRecord; next: number } | { problem: 'short' | 'bad'; why: string } {
  if (offset + HEADER_BYTES > buf.length) return { problem: 'short', why: 'the file ends inside a record header' };
  if (buf.readUInt32BE(offset) !== MAGIC) return { problem: 'bad', why: 'no record marker' };
  const length = buf.readUInt32BE(offset + 4);
  const end = offset + HEADER_BYTES + length;
  if (end > buf.length) return { problem: 'short', why: `the record claims ${length} bytes but the file ends first` };
  const checksum = buf.readUInt32BE(offset + 8);
  if (crc32(buf.subarray(offset + 12, end)) !== checksum) return { problem: 'bad', why: 'checksum mismatch' };
  const index = Number(buf.readBigUInt64BE(offset + 12));
  return { record: { index, payload: buf.subarray(offset + HEADER_BYTES, end) }, next: end };
}
// #endregion decode-record

/** Segment files are named by the index of their first record, so they sort in log order. */
function segmentName(firstIndex: number): string {
  return `${String(firstIndex).padStart(16, '0')}.wal`;
}

/** The segment files of a log directory, oldest first. */
export function listSegments(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^\d{16}\.wal$/.test(name))
    .sort();
}

/**
 * Reads every record of the log, repairing a damaged tail. `log` receives a
 * sentence for each repair. Throws WalCorruptError for damage before the tail
 * or a gap in the indexes.
 */
export function readLog(dir: string, log: (line: string) => void = () => {}): WalRecord[] {
  const records: WalRecord[] = [];
  const segments = listSegments(dir);
  segments.forEach((name, i) => {
    const path = join(dir, name);
    const buf = readFileSync(path);
    let offset = 0;
    while (offset < buf.length) {
      const result = decodeRecord(buf, offset);
      if ('record' in result) {
        const expected = (records.at(-1)?.index ?? result.record.index - 1) + 1;
        if (result.record.index !== expected) {
          throw new WalCorruptError(`wal: ${path} at offset ${offset}: expected record ${expected}, found ${result.record.index}: the log has a gap; refusing to start`);
        }
        records.push(result.record);
        offset = result.next;
        continue;
      }
      if (isZeroFrom(buf, offset)) {
        // The unused, preallocated end of a segment: the log simply ends here.
        if (buf.length > offset) truncateFile(path, offset);
        break;
      }
      const later = findValidRecord(buf, offset + 1);
      const isLastSegment = i === segments.length - 1;
      if (later !== undefined || !isLastSegment) {
        throw new WalCorruptError(
          `wal: ${path} is corrupt at offset ${offset} (${result.why}) but ${later !== undefined ? `a valid record follows at offset ${later}` : 'later segments follow'}: ` +
            'acknowledged writes may be damaged, so the store refuses to start. Restore a backup with `npm run etcd -- snapshot restore FILE --data-dir NEWDIR`, or move the data dir aside.',
        );
      }
      // Why it is safe to cut: nothing valid follows, so this was the write in
      // flight when the process died; it was never acknowledged.
      const tornBytes = lastNonZero(buf) + 1 - offset;
      log(`wal: cut off a torn tail of ${tornBytes} bytes at offset ${offset} of ${path} (${result.why}); that write was never acknowledged`);
      truncateFile(path, offset);
      break;
    }
  });
  return records;
}

/** True when every byte of `buf` from `offset` on is zero. */
function isZeroFrom(buf: Buffer, offset: number): boolean {
  return lastNonZero(buf) < offset;
}

/** Index of the last non-zero byte of `buf`, or -1. */
function lastNonZero(buf: Buffer): number {
  const chunk = 64 * 1024;
  const zeros = Buffer.alloc(chunk);
  // Why in chunks from the end: a preallocated segment is mostly zeros, and comparing whole chunks is fast.
  for (let end = buf.length; end > 0; end -= chunk) {
    const start = Math.max(0, end - chunk);
    if (buf.compare(zeros, 0, end - start, start, end) === 0) continue;
    for (let i = end - 1; i >= start; i--) if (buf[i] !== 0) return i;
  }
  return -1;
}

/** Cuts a file to `length` bytes, durably. */
function truncateFile(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, length);
  fsyncSync(fd);
  closeSync(fd);
}

/** The first offset at or after `from` where a valid record starts, if any. */
function findValidRecord(buf: Buffer, from: number): number | undefined {
  const marker = Buffer.alloc(4);
  marker.writeUInt32BE(MAGIC, 0);
  for (let at = buf.indexOf(marker, from); at !== -1; at = buf.indexOf(marker, at + 1)) {
    if ('record' in decodeRecord(buf, at)) return at;
  }
  return undefined;
}

/** O_DSYNC where the platform has it: every write is durable when it returns, saving a separate fdatasync. */
const DSYNC = constants.O_DSYNC;

/**
 * Size a new segment is preallocated to, as etcd does (64 MiB): a synced
 * write that does not grow the file has less metadata to sync, so it is faster.
 */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

/** Creates the segment starting at `firstIndex`, preallocated, and makes its creation durable. */
async function openSegment(dir: string, firstIndex: number, fsync: boolean): Promise<FileHandle> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (fsync && DSYNC ? DSYNC : 0);
  const file = await open(join(dir, segmentName(firstIndex)), flags);
  await file.truncate(SEGMENT_BYTES);
  if (fsync) {
    // Why sync the directory: a new file's name lives in the directory's data.
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  }
  return file;
}

/** While recent synced writes average more than this, they are made off the event loop. */
const SLOW_WRITE_MS = 2;

interface Pending {
  frame: Buffer;
  index: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** An open log that appends records with group commit. */
export class Wal {
  private pending: Pending[] = [];
  private flushing = false;
  private failed: Error | undefined;
  private rotation: ((firstIndex: number) => void) | undefined;
  /** Moving average of recent batch writes, in ms. */
  private recentWriteMs = 0;
  /** Where the next record goes in the current segment (which is preallocated, so not its size). */
  private offset = 0;
  /** How many fsyncs have been made, and how many records they covered (for the benchmark and tests). */
  readonly stats = { syncs: 0, records: 0 };

  private constructor(
    private readonly dir: string,
    private file: FileHandle,
    private lastIndex: number,
    private readonly fsync: boolean,
  ) {}

  /** Opens the log for appending; a new segment starts at `nextIndex`. */
  static async open(dir: string, nextIndex: number, fsync = true): Promise<Wal> {
    const file = await openSegment(dir, nextIndex, fsync);
    return new Wal(dir, file, nextIndex - 1, fsync);
  }

  // #region append
  /** Appends a record; resolves once it is on disk. Records must come in index order. */
  append(record: WalRecord): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.pending.push({ frame: encodeRecord(record), index: record.index, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Flushes on the next turn of the event loop, so that every request that
   * arrived in this turn joins the same batch: one disk sync for all of them.
   */
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  /** Writes and syncs everything pending, batch after batch, until nothing is left. */
  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0 || this.rotation) {
      if (this.rotation) {
        await this.startSegment();
        continue;
      }
      const batch = this.pending;
      this.pending = [];
      try {
        await this.writeBatch(Buffer.concat(batch.map((p) => p.frame)));
        this.lastIndex = (batch.at(-1) as Pending).index;
        this.stats.syncs++;
        this.stats.records += batch.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        // Why stop for good: after a failed write we no longer know what is on
        // disk, so acknowledging anything more could lose it (etcd panics here).
        this.failed = new Error(`wal: writing to ${this.dir} failed: ${(err as Error).message}`);
        for (const p of [...batch, ...this.pending]) p.reject(this.failed);
        this.pending = [];
      }
    }
    this.flushing = false;
  }
  // #endregion append

  // #region write-batch
  /**
   * Writes one batch durably. On a fast disk the write is made right here,
   * blocking for the fraction of a millisecond a synced write takes: handing
   * it to libuv's thread pool costs more than that in wake-ups. While recent
   * writes have been slow (a spinning disk, a busy machine), they go to the
   * thread pool instead, so reads and watches keep flowing meanwhile.
   */
  private async writeBatch(bytes: Buffer): Promise<void> {
    const started = performance.now();
    if (this.fsync && DSYNC && this.recentWriteMs < SLOW_WRITE_MS) {
      writeSync(this.file.fd, bytes, 0, bytes.length, this.offset); // O_DSYNC: on disk when this returns
    } else {
      await this.file.write(bytes, 0, bytes.length, this.offset);
      if (this.fsync && !DSYNC) await this.file.datasync();
    }
    this.offset += bytes.length;
    // A moving average, so one hiccup does not decide for good, and a disk that recovers is used inline again.
    this.recentWriteMs = 0.8 * this.recentWriteMs + 0.2 * (performance.now() - started);
  }

  // #endregion write-batch

  /**
   * Starts a new segment between two batches and resolves with the index of
   * its first record: every record before that index is in older segments.
   */
  rotate(): Promise<number> {
    return new Promise((resolve) => {
      this.rotation = resolve;
      this.scheduleFlush();
    });
  }

  private async startSegment(): Promise<void> {
    const resolve = this.rotation as (firstIndex: number) => void;
    this.rotation = undefined;
    await this.closeSegment();
    const firstIndex = this.lastIndex + 1;
    this.file = await openSegment(this.dir, firstIndex, this.fsync);
    this.offset = 0;
    resolve(firstIndex);
  }

  /** Gives back the unused preallocated end of the current segment and closes it. */
  private async closeSegment(): Promise<void> {
    await this.file.truncate(this.offset);
    if (this.fsync) await this.file.sync();
    await this.file.close();
  }

  /** Deletes the segments that hold only records before `firstIndex` (a snapshot covers them). */
  removeBefore(firstIndex: number): void {
    const keep = segmentName(firstIndex);
    for (const name of listSegments(this.dir)) if (name < keep) unlinkSync(join(this.dir, name));
  }

  /** Waits until nothing is pending. */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
  }

  /** Flushes and closes the log. */
  async close(): Promise<void> {
    await this.drain();
    await this.closeSegment();
  }
}
