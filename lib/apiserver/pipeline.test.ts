/**
 * The request pipeline machine on its own: each stage is replaced by a fake
 * (requestPipeline.provide), so these tests see only the paths a request
 * takes through the states: a write, a read, a watch, a conflict that goes
 * back to admission, and refusals that end in `failed`. One last test runs
 * real requests and reads the server's trace of the same paths.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createActor, fromPromise, toPromise } from 'xstate';
import { call, startTestCluster, type TestCluster } from '../../test/helpers/apiserver.ts';
import { ADMIN } from './bootstrap.ts';
import type { Reply, RequestContext } from './handlers.ts';
import { MAX_CONFLICT_RETRIES, requestPipeline, type PipelineOutput } from './pipeline.ts';
import { requestInfo } from './request-info.ts';
import type { RequestTrace } from './server.ts';
import { conflict, unauthorized } from './status.ts';

type Stage = 'authenticate' | 'authorize' | 'decode' | 'admit' | 'validate' | 'store' | 'read' | 'watch';

/** A request context for `method path`, with `input` as the decoded body. */
function request(method: string, path: string, input?: unknown): RequestContext {
  const url = new URL(path, 'https://127.0.0.1');
  return { req: { headers: {} } as IncomingMessage, res: {} as ServerResponse, url, info: requestInfo(method, url), input, attempts: 0, warnings: [] };
}

/**
 * Runs the pipeline with every stage faked: a stage does what `overrides`
 * says, or succeeds. Returns every state entered (eventless ones included,
 * read from the machine's microsteps), how often each stage ran, and the output.
 */
async function run(ctx: RequestContext, overrides: Partial<Record<Stage, (ctx: RequestContext) => Promise<unknown>>> = {}) {
  const calls: Record<Stage, number> = { authenticate: 0, authorize: 0, decode: 0, admit: 0, validate: 0, store: 0, read: 0, watch: 0 };
  const defaults: Record<Stage, (ctx: RequestContext) => Promise<unknown>> = {
    authenticate: async () => ADMIN,
    authorize: async () => undefined,
    decode: async () => undefined,
    admit: async () => undefined,
    validate: async () => undefined,
    store: async (): Promise<Reply> => ({ status: 201, body: { stored: true } }),
    read: async (): Promise<Reply> => ({ status: 200, body: { read: true } }),
    watch: async () => undefined,
  };
  const fake = (stage: Stage) =>
    fromPromise(async ({ input }: { input: RequestContext }) => {
      calls[stage] += 1;
      return (overrides[stage] ?? defaults[stage])(input);
    });
  const machine = requestPipeline.provide({
    actors: {
      authenticate: fake('authenticate'),
      authorize: fake('authorize'),
      decode: fake('decode'),
      admit: fake('admit'),
      validate: fake('validate'),
      store: fake('store'),
      read: fake('read'),
      watch: fake('watch'),
    } as never,
  });
  const states: string[] = [];
  const actor = createActor(machine, {
    input: ctx,
    inspect: (event) => {
      if (event.type === '@xstate.microstep' && event.actorRef === actor) states.push(String((event.snapshot as unknown as { value: unknown }).value));
    },
  });
  actor.start();
  // The initial state is entered without a microstep; every stage is async, so nothing has moved yet.
  states.unshift(String(actor.getSnapshot().value));
  const output: PipelineOutput = await toPromise(actor);
  return { states: states.filter((s, i) => s !== states[i - 1]), calls, output };
}

describe('The request pipeline machine', () => {
  it('takes a write through authenticating, authorizing, routing, decoding, admitting, validating, storing and responding', async () => {
    const { states, output, calls } = await run(request('POST', '/api/v1/namespaces/default/configmaps'));
    assert.deepEqual(states, ['authenticating', 'authorizing', 'routing', 'decoding', 'admitting', 'validating', 'storing', 'responding']);
    assert.deepEqual(output.reply, { status: 201, body: { stored: true } });
    assert.equal(output.error, undefined);
    assert.equal(calls.read, 0);
  });

  it('takes a read from routing straight to reading, skipping decoding, admission, validation and storage', async () => {
    for (const path of ['/api/v1/namespaces/default/configmaps/one', '/api/v1/namespaces/default/configmaps', '/apis']) {
      const { states, output, calls } = await run(request('GET', path));
      assert.deepEqual(states, ['authenticating', 'authorizing', 'routing', 'reading', 'responding'], `for GET ${path}`);
      assert.deepEqual(output.reply, { status: 200, body: { read: true } });
      assert.deepEqual([calls.decode, calls.admit, calls.validate, calls.store], [0, 0, 0, 0]);
    }
  });

  it('takes a watch to watching and ends streamed, with no reply to send', async () => {
    const { states, output } = await run(request('GET', '/api/v1/configmaps?watch=true'));
    assert.deepEqual(states, ['authenticating', 'authorizing', 'routing', 'watching', 'streamed']);
    assert.deepEqual(output, { reply: undefined, error: undefined, streamed: true });
  });

  it('sends a patch that lost a race in storing back to admitting, and succeeds when the next attempt wins', async () => {
    let failures = 2;
    const { states, output, calls } = await run(request('PATCH', '/api/v1/namespaces/default/configmaps/c'), {
      store: async () => {
        if (failures-- > 0) throw conflict({ resource: 'configmaps', name: 'c' });
        return { status: 200, body: { stored: true } };
      },
    });
    assert.deepEqual(states, ['authenticating', 'authorizing', 'routing', 'decoding', 'admitting', 'validating', 'storing', 'admitting', 'validating', 'storing', 'admitting', 'validating', 'storing', 'responding']);
    assert.equal(calls.decode, 1, 'expected the body decoded once');
    assert.equal(calls.admit, 3);
    assert.equal(output.reply?.status, 200);
  });

  it('retries a conflicting patch at most 5 times, then fails with the 409', async () => {
    const ctx = request('PATCH', '/api/v1/namespaces/default/configmaps/c');
    const { states, output, calls } = await run(ctx, {
      store: async () => {
        throw conflict({ resource: 'configmaps', name: 'c' });
      },
    });
    assert.equal(MAX_CONFLICT_RETRIES, 5);
    assert.equal(calls.admit, 1 + MAX_CONFLICT_RETRIES);
    assert.equal(calls.store, 1 + MAX_CONFLICT_RETRIES);
    assert.equal(ctx.attempts, MAX_CONFLICT_RETRIES);
    assert.equal(states.filter((s) => s === 'admitting').length, 6);
    assert.equal(states.at(-1), 'failed');
    assert.equal(output.error?.code, 409);
    assert.equal(output.error?.reason, 'Conflict');
  });

  it('does not retry an update that named a resourceVersion: its conflict goes to the client at once', async () => {
    const conditional = request('PUT', '/api/v1/namespaces/default/configmaps/c', { metadata: { name: 'c', resourceVersion: '7' } });
    const throwConflict = async () => {
      throw conflict({ resource: 'configmaps', name: 'c' });
    };
    const first = await run(conditional, { store: throwConflict });
    assert.equal(first.calls.store, 1);
    assert.equal(first.output.error?.code, 409);
    // Without a resourceVersion the update asked for "whatever is stored", so it is retried like a patch.
    const blind = await run(request('PUT', '/api/v1/namespaces/default/configmaps/c', { metadata: { name: 'c' } }), { store: throwConflict });
    assert.equal(blind.calls.store, 1 + MAX_CONFLICT_RETRIES);
  });

  it('ends an unauthenticated request in failed with 401, before authorization runs', async () => {
    const { states, output, calls } = await run(request('GET', '/api/v1/pods'), {
      authenticate: async () => {
        throw unauthorized();
      },
    });
    assert.deepEqual(states, ['authenticating', 'failed']);
    assert.equal(output.error?.code, 401);
    assert.equal(output.error?.reason, 'Unauthorized');
    assert.equal(output.reply, undefined);
    assert.equal(calls.authorize, 0);
  });

  it('turns a stage that throws a plain error into a 500 InternalError naming it', async () => {
    const { states, output } = await run(request('POST', '/api/v1/namespaces/default/configmaps'), {
      validate: async () => {
        throw new Error('the disk is on fire');
      },
    });
    assert.deepEqual(states.slice(-2), ['validating', 'failed']);
    assert.equal(output.error?.code, 500);
    assert.equal(output.error?.reason, 'InternalError');
    assert.equal(output.error?.message, 'Internal error occurred: the disk is on fire');
  });
});

describe('The request pipeline inside the server', () => {
  let cluster: TestCluster;
  const traces: RequestTrace[] = [];
  before(async () => {
    cluster = await startTestCluster({ onTrace: (trace) => traces.push(trace) });
  });
  after(async () => {
    await cluster.stop();
  });

  const traceOf = (method: string, path: string) => {
    const found = traces.filter((t) => t.method === method && t.path === path).at(-1);
    if (!found) throw new Error(`expected a trace of ${method} ${path}, got ${JSON.stringify(traces.map((t) => `${t.method} ${t.path}`))}`);
    return found;
  };

  it('traces each request with the states it passed, its user, verb and code', async () => {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'traced' }, data: { a: '1' } };
    assert.equal((await call(cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', body })).code, 201);
    assert.equal((await call(cluster, { method: 'GET', path: '/api/v1/namespaces/default/configmaps/traced' })).code, 200);
    assert.equal((await call(cluster, { method: 'GET', path: '/api/v1/namespaces/default/configmaps', user: null })).code, 401);
    assert.equal((await call(cluster, { method: 'DELETE', path: '/api/v1/namespaces/default/pods/x', user: 'system:kube-proxy' })).code, 403);

    const write = traceOf('POST', '/api/v1/namespaces/default/configmaps');
    assert.deepEqual(write.states, ['authenticating', 'authorizing', 'decoding', 'admitting', 'validating', 'storing', 'responding']);
    assert.equal(write.user, 'kubernetes-admin');
    assert.equal(write.verb, 'create');
    assert.equal(write.code, 201);
    const read = traceOf('GET', '/api/v1/namespaces/default/configmaps/traced');
    assert.deepEqual(read.states, ['authenticating', 'authorizing', 'reading', 'responding']);
    assert.equal(read.verb, 'get');
    const anonymous = traces.find((t) => t.code === 401);
    assert.deepEqual(anonymous?.states, ['authenticating', 'failed']);
    const forbidden = traceOf('DELETE', '/api/v1/namespaces/default/pods/x');
    assert.deepEqual(forbidden.states, ['authenticating', 'authorizing', 'failed']);
    assert.equal(forbidden.user, 'system:kube-proxy');
    assert.equal(forbidden.code, 403);
  });
});
