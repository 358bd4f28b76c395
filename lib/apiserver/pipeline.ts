/**
 * The request pipeline as an XState machine: every request the API server
 * answers runs through it. A write goes authenticate → authorize → decode →
 * admit → validate → store; a read goes authenticate → authorize → read;
 * a watch ends in a stream. Each stage is a named actor (handlers.ts), so
 * tests can replace any of them; a stage that throws sends the request to
 * `failed`, whose output is the error the client receives as a Status.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { UserInfo } from './auth.ts';
import type { Handlers, Reply, RequestContext } from './handlers.ts';
import { ApiError, asApiError } from './status.ts';

/** How many times a write that lost a race to another writer is re-admitted before the 409 goes to the client. */
export const MAX_CONFLICT_RETRIES = 5;
/**
 * How often a binding retries a lost race. Why more than a patch: upstream's
 * BindingREST loops until the Pod is bound or gone; every retry re-reads the
 * Pod, so only a Pod that others keep writing can need many.
 */
export const MAX_BINDING_RETRIES = 50;

/** What the machine ends with: the reply to send, or the error to send as a Status (nothing for a stream). */
export interface PipelineOutput {
  reply?: Reply;
  error?: ApiError;
  streamed?: boolean;
}

interface PipelineContext {
  request: RequestContext;
  reply?: Reply;
  error?: ApiError;
}

const READ_VERBS = new Set(['get', 'list']);

// #region pipeline-machine
export const requestPipeline = setup({
  types: {
    context: {} as PipelineContext,
    input: {} as RequestContext,
    output: {} as PipelineOutput,
  },
  actors: {
    // The stages; server.ts provides the real ones from Handlers.
    authenticate: fromPromise<UserInfo, RequestContext>(async () => {
      throw new Error('authenticate not provided');
    }),
    authorize: fromPromise<void, RequestContext>(async () => {}),
    decode: fromPromise<void, RequestContext>(async () => {}),
    admit: fromPromise<void, RequestContext>(async () => {}),
    validate: fromPromise<void, RequestContext>(async () => {}),
    store: fromPromise<Reply, RequestContext>(async () => ({ status: 500 })),
    read: fromPromise<Reply, RequestContext>(async () => ({ status: 500 })),
    watch: fromPromise<void, RequestContext>(async () => {}),
  },
  guards: {
    isWatch: ({ context }) => context.request.info.verb === 'watch',
    // Discovery and every GET that is not a watch only read.
    isRead: ({ context }) => !context.request.info.isResourceRequest || READ_VERBS.has(context.request.info.verb),
    // Why retry: a patch, or an update that named no resourceVersion, asked
    // for "apply this to whatever is stored", so losing a race to another
    // writer means: read again and re-apply, as kube-apiserver's GuaranteedUpdate does.
    canRetry: ({ context, event }) => {
      const error = asApiError((event as { error?: unknown }).error);
      const r = context.request;
      // A binding too: like upstream's, it re-reads the Pod and binds it if it is still unbound.
      if (r.info.subresource === 'binding') return error.reason === 'Conflict' && r.attempts < MAX_BINDING_RETRIES;
      const unconditional = r.info.verb === 'patch' || (r.info.verb === 'update' && !(r.input as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion);
      return error.reason === 'Conflict' && unconditional && r.attempts < MAX_CONFLICT_RETRIES;
    },
  },
  actions: {
    // The request context is shared with the stages, so the user is set on it directly.
    setUser: ({ context, event }) => {
      context.request.user = (event as unknown as { output: UserInfo }).output;
    },
    setReply: assign({ reply: ({ event }) => (event as unknown as { output: Reply }).output }),
    setError: assign({ error: ({ event }) => asApiError((event as { error?: unknown }).error) }),
    countAttempt: ({ context }) => {
      context.request.attempts += 1;
    },
  },
}).createMachine({
  id: 'request',
  context: ({ input }) => ({ request: input }),
  initial: 'authenticating',
  states: {
    authenticating: {
      invoke: { src: 'authenticate', input: ({ context }) => context.request, onDone: { target: 'authorizing', actions: 'setUser' }, onError: { target: 'failed', actions: 'setError' } },
    },
    authorizing: {
      invoke: { src: 'authorize', input: ({ context }) => context.request, onDone: { target: 'routing' }, onError: { target: 'failed', actions: 'setError' } },
    },
    routing: {
      always: [{ guard: 'isWatch', target: 'watching' }, { guard: 'isRead', target: 'reading' }, { target: 'decoding' }],
    },
    decoding: {
      invoke: { src: 'decode', input: ({ context }) => context.request, onDone: { target: 'admitting' }, onError: { target: 'failed', actions: 'setError' } },
    },
    admitting: {
      invoke: { src: 'admit', input: ({ context }) => context.request, onDone: { target: 'validating' }, onError: { target: 'failed', actions: 'setError' } },
    },
    validating: {
      invoke: { src: 'validate', input: ({ context }) => context.request, onDone: { target: 'storing' }, onError: { target: 'failed', actions: 'setError' } },
    },
    storing: {
      invoke: {
        src: 'store',
        input: ({ context }) => context.request,
        onDone: { target: 'responding', actions: 'setReply' },
        onError: [
          { guard: 'canRetry', target: 'admitting', actions: 'countAttempt' },
          { target: 'failed', actions: 'setError' },
        ],
      },
    },
    reading: {
      invoke: { src: 'read', input: ({ context }) => context.request, onDone: { target: 'responding', actions: 'setReply' }, onError: { target: 'failed', actions: 'setError' } },
    },
    watching: {
      invoke: { src: 'watch', input: ({ context }) => context.request, onDone: { target: 'streamed' }, onError: { target: 'failed', actions: 'setError' } },
    },
    responding: { type: 'final' },
    streamed: { type: 'final' },
    failed: { type: 'final' },
  },
  output: ({ context }) => ({ reply: context.reply, error: context.error, streamed: context.reply === undefined && context.error === undefined }),
});
// #endregion pipeline-machine

/** The pipeline with its stages bound to one server's handlers. */
export function pipelineFor(handlers: Handlers) {
  return requestPipeline.provide({
    actors: {
      authenticate: fromPromise(({ input }: { input: RequestContext }) => handlers.authenticate(input)),
      authorize: fromPromise(({ input }: { input: RequestContext }) => handlers.authorize(input)),
      decode: fromPromise(({ input }: { input: RequestContext }) => handlers.decode(input)),
      admit: fromPromise(({ input }: { input: RequestContext }) => handlers.admit(input)),
      validate: fromPromise(({ input }: { input: RequestContext }) => handlers.validate(input)),
      store: fromPromise(({ input }: { input: RequestContext }) => handlers.store(input)),
      read: fromPromise(({ input }: { input: RequestContext }) => handlers.read(input)),
      watch: fromPromise(({ input }: { input: RequestContext }) => handlers.watch(input)),
    },
  });
}
