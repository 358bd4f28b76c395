/**
 * The event recorder every component uses to say what it did: "Created pod:
 * backend-7d9f8-x2x4k", "Successfully assigned default/backend-... to
 * node-2". Events are ordinary API objects (core/v1 Event) that point at the
 * object they are about (involvedObject); `kubectl describe` and `kubectl get
 * events` read them back.
 *
 * As client-go's recorder does, a repeat of the same event (same object,
 * type, reason, message and source) is not a new object: the first one's
 * `count` goes up and its `lastTimestamp` moves, with a PATCH. Recording
 * never blocks or fails the caller: an event is narration, and a controller
 * must not stop because one could not be written.
 */
import type { Event, KubeObject, ObjectReference } from '../api/types.ts';
import { findResource } from '../apiserver/resources.ts';
import { realClock, type Clock, type KubeClient } from './client.ts';

const EVENTS = findResource('', 'v1', 'events')!;

/** Who records: the `source` of every event (kubectl's SOURCE column). */
export interface EventSource {
  component: string;
  host?: string;
}

/** One recorded event as the recorder saw it, for narration and tests. */
export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** `kind/name` of the object, as kubectl's OBJECT column prints it. */
  object: string;
  namespace: string;
  count: number;
}

/** What a component calls to record an event about an object. */
export interface EventRecorder {
  event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Resolves when every event recorded so far has been written (or failed). */
  flush(): Promise<void>;
}

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  /** The write that created the event; repeats wait for it before patching. */
  written: Promise<boolean>;
}

/** Options of an ApiEventRecorder. */
export interface EventRecorderOptions {
  clock?: Clock;
  /** Told about every event, after aggregation (for labs and the walkthrough). */
  onEvent?: (event: RecordedEvent) => void;
  /** Where failed writes are reported (default: ignored; events are best effort). */
  onError?: (error: unknown) => void;
}

/** The reference to put in involvedObject. */
export function objectReference(object: KubeObject): ObjectReference {
  return {
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    uid: object.metadata.uid,
    apiVersion: object.apiVersion,
    resourceVersion: object.metadata.resourceVersion,
  };
}

// #region recorder
/** Records events through the API server, aggregating repeats into a count. */
export class ApiEventRecorder implements EventRecorder {
  private readonly seen = new Map<string, Aggregate>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly clock: Clock;

  constructor(
    private readonly client: KubeClient,
    readonly source: EventSource,
    private readonly options: EventRecorderOptions = {},
  ) {
    this.clock = options.clock ?? realClock;
  }

  event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const involved = objectReference(object);
    // Why "default" for Nodes: an Event is namespaced, and a cluster-scoped object's events live in default, as upstream records them.
    const namespace = involved.namespace || 'default';
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // #region aggregate
    const key = [involved.kind, namespace, involved.name, involved.uid, type, reason, message].join('\u0000');
    const previous = this.seen.get(key);
    // Why a count and not a new object: a controller that retries every few seconds would otherwise fill the store with copies.
    const write = previous ? this.recordRepeat(previous, now) : this.recordFirst(key, { involvedObject: involved, namespace, type, reason, message, now });
    // #endregion aggregate
    this.options.onEvent?.({ type, reason, message, object: `${involved.kind?.toLowerCase()}/${involved.name}`, namespace, count: previous?.count ?? 1 });
    const tracked = write.catch((error) => this.options.onError?.(error));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    // Why a cap: a long-running component would otherwise remember every event it ever recorded.
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value as string);
  }

  /** A repeat: one more on the first event's count, and a new lastTimestamp, once the first is written. */
  private recordRepeat(previous: Aggregate, now: string): Promise<unknown> {
    previous.count += 1;
    const count = previous.count;
    return previous.written.then((ok) => (ok ? this.client.patch(EVENTS, previous.namespace, previous.name, { count, lastTimestamp: now }, 'merge') : undefined));
  }

  /** A first occurrence: a new Event object, remembered under `key` for its repeats. */
  private recordFirst(key: string, e: { involvedObject: ObjectReference; namespace: string; type: 'Normal' | 'Warning'; reason: string; message: string; now: string }): Promise<boolean> {
    const name = `${e.involvedObject.name}.${this.uniqueSuffix()}`;
    const body: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: e.namespace },
      involvedObject: e.involvedObject,
      reason: e.reason,
      message: e.message,
      type: e.type,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      firstTimestamp: e.now,
      lastTimestamp: e.now,
      count: 1,
      eventTime: null,
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    };
    const written = this.client.create(EVENTS, body).then(
      () => true,
      (error) => {
        this.options.onError?.(error);
        this.seen.delete(key);
        return false;
      },
    );
    this.seen.set(key, { name, namespace: e.namespace, count: 1, firstTimestamp: e.now, written });
    return written;
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The suffix upstream uses: the time in nanoseconds, in hex, unique per recorder. */
  private lastSuffix = 0n;
  private uniqueSuffix(): string {
    let nanos = BigInt(this.clock.now()) * 1_000_000n;
    if (nanos <= this.lastSuffix) nanos = this.lastSuffix + 1n;
    this.lastSuffix = nanos;
    return nanos.toString(16);
  }
}
// #endregion recorder

/** A recorder that keeps events in memory: for unit tests of controllers and plugins. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ type, reason, message, object: `${object.kind?.toLowerCase()}/${object.metadata.name}`, namespace: object.metadata.namespace || 'default', count: 1 });
  }

  async flush(): Promise<void> {}
}
