/**
 * Watch streams: how every component learns about changes without polling.
 * A watch is one long HTTP response; each change to a matching object is one
 * JSON line `{"type":"ADDED|MODIFIED|DELETED","object":{...}}`. Underneath
 * it is a store watch on the resource's key prefix, from the revision after
 * the client's resourceVersion, so a client that lists and then watches from
 * the list's resourceVersion misses nothing and sees nothing twice.
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject, WatchEventObject } from '../api/types.ts';
import { prefixEnd } from '../store/revisions.ts';
import type { WatchEvent, WatchResponse } from '../store/types.ts';
import type { CachedEvent, CacheWatcher, WatchCaches } from './cacher.ts';
import { decodeObject, type Registry } from './registry.ts';
import { groupVersion, storagePrefixFor, type ResourceInfo } from './resources.ts';
import { badRequest, expired, internalError } from './status.ts';

/** What a client asked to watch. */
export interface WatchRequest {
  info: ResourceInfo;
  namespace?: string;
  /** The client's resourceVersion: events after it are sent. Unset or "0": start with the current state as ADDED events. */
  resourceVersion?: string;
  /** Which objects the client wants (label and field selectors together); undefined when it filters nothing. */
  matches?: (object: KubeObject) => boolean;
  allowWatchBookmarks: boolean;
  /** End the stream after this long, as `timeoutSeconds` asks. */
  timeoutMs: number;
  /** Turns a store event into a watch event (the chapter 2 lab passes the learner's); toWatchEvent by default. */
  translate?: typeof toWatchEvent;
  /** How an event's object goes on the wire (a Table for `kubectl get -w`); identity by default. */
  render?: (object: KubeObject, first: boolean) => unknown;
}

/** Matches every object: the filter of a client that asked for no selector. */
const everything = () => true;

/** Timing of bookmarks; tests shorten it. */
export interface WatchTiming {
  bookmarkIntervalMs: number;
}

// #region translate
/**
 * The Kubernetes watch event for one store event, seen through a filter.
 * An object that starts matching is ADDED, one that stops matching is
 * DELETED, and a store delete is DELETED carrying the object's last state.
 */
export function toWatchEvent(event: WatchEvent, matches: (object: KubeObject) => boolean): WatchEventObject | undefined {
  const old = event.prevKv ? decodeObject(event.prevKv) : undefined;
  const oldMatches = old !== undefined && matches(old);
  if (event.type === 'DELETE') {
    if (!old || !oldMatches) return undefined;
    // A deleted object's resourceVersion is the revision of the deletion.
    old.metadata.resourceVersion = String(event.kv.modRevision);
    return { type: 'DELETED', object: old };
  }
  const current = decodeObject(event.kv);
  const nowMatches = matches(current);
  if (nowMatches && oldMatches) return { type: 'MODIFIED', object: current };
  if (nowMatches) return { type: 'ADDED', object: current };
  if (oldMatches) return { type: 'DELETED', object: current };
  return undefined;
}
// #endregion translate

/** The revision a resourceVersion names; 400 when it is not a number. */
export function parseResourceVersion(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d+$/.test(text)) throw badRequest(`invalid resourceVersion ${JSON.stringify(text)}: expected a number (an unmodified resourceVersion from this server)`);
  return Number(text);
}

/** The one ERROR event a watch from a compacted resourceVersion gets before it closes (410 Expired). */
export function expiredEvent(requested: number, compacted: number): WatchEventObject {
  return { type: 'ERROR', object: expired(`too old resource version: ${requested} (${compacted})`).status as unknown as KubeObject };
}

// #region serve
/**
 * Serve one watch on an HTTP response until the client leaves, the timeout
 * passes, or the store ends it. From the shared watch cache when it reaches
 * back far enough; otherwise from a store watch of its own, which answers a
 * compacted resourceVersion with 410. Resolves when the stream is closed.
 */
export async function serveWatch(registry: Registry, request: WatchRequest, res: ServerResponse, timing: WatchTiming, caches?: WatchCaches): Promise<void> {
  const { info } = request;
  const translate = request.translate ?? toWatchEvent;
  const matches = request.matches ?? everything;
  let after = parseResourceVersion(request.resourceVersion);
  let first = true;
  /** The event as the client asked to see it: its object rendered (as a Table row, say) when a renderer is given. */
  const render = (event: WatchEventObject): WatchEventObject => {
    const object = event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED' ? (request.render ? request.render(event.object, first) : event.object) : event.object;
    first = false;
    return { type: event.type, object } as WatchEventObject;
  };
  const send = (event: WatchEventObject) => {
    res.write(encodeLine(render(event)));
  };

  // The cache first: a list that follows is then never older than the cache.
  const cache = caches ? await caches.get(info) : undefined;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Unset or 0: the client wants the current state first, as ADDED events.
  if (after === 0) {
    const list = await registry.list(info, request.namespace);
    for (const object of list.items) if (matches(object)) send({ type: 'ADDED', object });
    after = list.revision;
  }
  res.flushHeaders();

  return new Promise<void>((resolve) => {
    let lastRevision = after;
    let stopSource = () => {};
    let requestProgress = () => {};
    const finish = () => {
      clearTimeout(timer);
      clearInterval(bookmarks);
      stopSource();
      if (!res.writableEnded) res.end();
      resolve();
    };
    const timer = setTimeout(finish, request.timeoutMs);
    const bookmarks = setInterval(() => {
      if (request.allowWatchBookmarks) requestProgress();
    }, timing.bookmarkIntervalMs);
    res.on('close', finish);
    const progress = (revision: number) => {
      // Everything up to `revision` has been delivered: a bookmark may say so.
      if (request.allowWatchBookmarks && revision > lastRevision) {
        lastRevision = revision;
        send(bookmark(info, revision));
      }
    };
    /** Sends a batch of store events as one write; `shared[i]`, when given, is the cache's copy of `events[i]`. */
    const deliver = (events: WatchEvent[], shared?: CachedEvent[]) => {
      const lines: Buffer[] = [];
      for (const [i, event] of events.entries()) {
        try {
          const line = lineFor(event, shared?.[i]);
          if (line) lines.push(line);
        } catch (error) {
          // A translation that throws (a learner's toWatchEvent, say) ends this stream, not the server.
          writeLines(lines);
          send({ type: 'ERROR', object: internalError(`watch event for ${event.kv.key.toString()} could not be made: ${(error as Error).message}`).status as unknown as KubeObject });
          finish();
          return;
        }
      }
      writeLines(lines);
    };
    const writeLines = (lines: Buffer[]) => {
      if (lines.length > 0) res.write(lines.length === 1 ? lines[0] : Buffer.concat(lines));
    };
    const lineFor = (event: WatchEvent, shared?: CachedEvent): Buffer | null => {
      lastRevision = event.kv.modRevision;
      // A client that filters nothing and wants plain JSON gets the line every such client gets.
      if (shared && !request.matches && !request.render) {
        if (shared.line === undefined) {
          const out = translate(event, everything);
          shared.line = out ? encodeLine(out) : null;
        }
        first = false;
        return shared.line;
      }
      const out = translate(event, matches);
      return out ? encodeLine(render(out)) : null;
    };

    if (cache && cache.canServe(after)) {
      const watcher: CacheWatcher = { prefix: storagePrefixFor(info, request.namespace), after, deliver: (batch) => deliver(batch.map((c) => c.event), batch), progress, end: finish };
      stopSource = () => cache.remove(watcher);
      requestProgress = () => cache.requestProgress();
      cache.add(watcher);
      return;
    }
    const prefix = Buffer.from(storagePrefixFor(info, request.namespace));
    const watch = registry.backend.watch({ key: prefix, rangeEnd: prefixEnd(prefix), startRevision: after + 1, prevKv: true }, (response: WatchResponse) => {
      if (response.canceled) {
        if (response.compactRevision) send(expiredEvent(after, response.compactRevision));
        finish();
        return;
      }
      if (response.events.length === 0) return progress(response.header.revision);
      deliver(response.events);
    });
    stopSource = () => watch.cancel();
    requestProgress = () => watch.requestProgress();
  });
}
// #endregion serve

/** One watch event as its line on the wire. */
function encodeLine(event: WatchEventObject): Buffer {
  return Buffer.from(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
}

/** A BOOKMARK: only a resourceVersion, telling the client it has seen everything up to it. */
export function bookmark(info: ResourceInfo, revision: number): WatchEventObject {
  return { type: 'BOOKMARK', object: { kind: info.kind, apiVersion: groupVersion(info), metadata: { resourceVersion: String(revision) } } };
}

