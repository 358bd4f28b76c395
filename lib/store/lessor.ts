/**
 * The lessor: every lease the store has granted, each driven by its own lease
 * machine, and the keys attached to it. Time is an input (`now`, in ms), so the
 * lessor is deterministic; the store's edge decides when to tick it.
 */
import { createActor, type ActorRefFrom } from 'xstate';
import { StoreError } from './errors.ts';
import type { KeyString } from './keys.ts';
import { leaseMachine } from './lease-machine.ts';

interface LeaseEntry {
  actor: ActorRefFrom<typeof leaseMachine>;
  keys: Set<KeyString>;
}

/** A lease as it is saved in a snapshot. */
export interface LeaseRecord {
  id: number;
  ttl: number;
}

export class Lessor {
  private readonly leases = new Map<number, LeaseEntry>();

  /** Starts a lease; fails if the id is taken. */
  grant(id: number, ttl: number, now: number): void {
    if (this.leases.has(id)) throw new StoreError('LEASE_EXISTS', `lease ${id} already exists`);
    const actor = createActor(leaseMachine, { input: { id, ttl, now } });
    actor.start();
    this.leases.set(id, { actor, keys: new Set() });
  }

  /** True while the lease exists (alive, or expired but not yet revoked). */
  has(id: number): boolean {
    return this.leases.has(id);
  }

  /** Records that `key` now lives under lease `id`. */
  attach(id: number, key: KeyString): void {
    this.leases.get(id)?.keys.add(key);
  }

  /** Records that `key` no longer lives under lease `id`. */
  detach(id: number, key: KeyString): void {
    this.leases.get(id)?.keys.delete(key);
  }

  /** Renews a lease; returns its TTL, or 0 when it does not exist or has already expired. */
  keepAlive(id: number, now: number): number {
    const entry = this.leases.get(id);
    if (!entry) return 0;
    entry.actor.send({ type: 'lease.keepAlive', now });
    // Why ask the machine: an expired lease ignores keep-alives.
    return entry.actor.getSnapshot().matches('alive') ? entry.actor.getSnapshot().context.ttl : 0;
  }

  /** Seconds left, granted TTL and attached keys; undefined when the lease is gone or expired. */
  timeToLive(id: number, now: number): { ttl: number; grantedTtl: number; keys: KeyString[] } | undefined {
    const entry = this.leases.get(id);
    if (!entry || !entry.actor.getSnapshot().matches('alive')) return undefined;
    const { ttl, expiresAt } = entry.actor.getSnapshot().context;
    return { ttl: Math.max(0, Math.floor((expiresAt - now) / 1000)), grantedTtl: ttl, keys: [...entry.keys].sort() };
  }

  /** Ends a lease and returns the keys that were attached to it (the caller deletes them). */
  revoke(id: number): KeyString[] {
    const entry = this.leases.get(id);
    if (!entry) throw new StoreError('LEASE_NOT_FOUND', `lease ${id} does not exist`);
    entry.actor.send({ type: 'lease.revoke' });
    entry.actor.stop();
    this.leases.delete(id);
    return [...entry.keys].sort();
  }

  /** Moves every lease past its deadline to `expired` and returns the ids that expired just now. */
  tick(now: number): number[] {
    const expired: number[] = [];
    for (const [id, entry] of this.leases) {
      if (!entry.actor.getSnapshot().matches('alive')) continue;
      entry.actor.send({ type: 'lease.tick', now });
      if (entry.actor.getSnapshot().matches('expired')) expired.push(id);
    }
    return expired;
  }

  /** Ids of the leases that exist, ascending. */
  ids(): number[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  /** The state of one lease's machine ('alive' | 'expired'), for narration and tests. */
  stateOf(id: number): string | undefined {
    return this.leases.get(id)?.actor.getSnapshot().value as string | undefined;
  }

  /** The leases to save in a snapshot (keys are rebuilt from the key values). */
  records(): LeaseRecord[] {
    return this.ids().map((id) => ({ id, ttl: (this.leases.get(id) as LeaseEntry).actor.getSnapshot().context.ttl }));
  }

  /** Stops every lease actor. */
  stop(): void {
    for (const entry of this.leases.values()) entry.actor.stop();
    this.leases.clear();
  }
}
