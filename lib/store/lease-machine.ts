/**
 * The lifecycle of one lease, as an XState machine. The lessor keeps one actor
 * per lease and asks it, never its own bookkeeping, whether the lease is alive:
 * keep-alives renew it only while `alive`; a tick past its deadline moves it to
 * `expired`, where it waits for the revoke that deletes its keys to be written
 * through the log; `revoked` is final.
 */
import { assign, setup } from 'xstate';

export interface LeaseContext {
  id: number;
  /** Granted time to live, in seconds. */
  ttl: number;
  /** When the lease runs out, in milliseconds of the store's clock. */
  expiresAt: number;
}

export type LeaseEvent =
  | { type: 'lease.keepAlive'; now: number }
  | { type: 'lease.tick'; now: number }
  | { type: 'lease.revoke' };

// #region lease-machine
export const leaseMachine = setup({
  types: {
    context: {} as LeaseContext,
    input: {} as { id: number; ttl: number; now: number },
    events: {} as LeaseEvent,
  },
  guards: {
    deadlinePassed: ({ context, event }) => 'now' in event && event.now >= context.expiresAt,
  },
  actions: {
    renew: assign({
      expiresAt: ({ context, event }) => ('now' in event ? event.now : 0) + context.ttl * 1000,
    }),
  },
}).createMachine({
  id: 'lease',
  context: ({ input }) => ({ id: input.id, ttl: input.ttl, expiresAt: input.now + input.ttl * 1000 }),
  initial: 'alive',
  states: {
    alive: {
      on: {
        'lease.keepAlive': { actions: 'renew' },
        'lease.tick': { guard: 'deadlinePassed', target: 'expired' },
        'lease.revoke': { target: 'revoked' },
      },
    },
    // Why a state of its own: between the deadline and the committed revoke,
    // the lease must not be renewed, or keys could outlive their lease.
    expired: {
      on: { 'lease.revoke': { target: 'revoked' } },
    },
    revoked: { type: 'final' },
  },
});
// #endregion lease-machine
