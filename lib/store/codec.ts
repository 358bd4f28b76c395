/**
 * Turns requests and state into bytes for the log and snapshots, and back.
 * JSON keeps the files readable in a hex dump; Buffers travel as base64.
 */

/** Encodes a value that may contain Buffers as JSON bytes. */
export function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(toWire(value)));
}

/** Decodes what `encode` made. */
export function decode<T>(bytes: Buffer): T {
  return fromWire(JSON.parse(bytes.toString('utf8'))) as T;
}

function toWire(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { $b: value.toString('base64') };
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}

function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof obj.$b === 'string' && Object.keys(obj).length === 1) return Buffer.from(obj.$b, 'base64');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = fromWire(v);
    return out;
  }
  return value;
}
