/**
 * `-v`: shows every HTTP request kubectl sends and the status that came back,
 * on stderr, as `kubectl -v=6` does; `-v=8` adds the request headers and
 * bodies. This is the point of the workbook's kubectl: every command is a
 * handful of REST calls, and here you can watch them go by.
 *
 * Node's http module announces each request and response on diagnostics
 * channels; tracing listens there, so the client needs no logging code.
 */
import diagnostics from 'node:diagnostics_channel';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { KubeClient, type KubeClientConfig, type RawRequest } from '../client.ts';
import type { Writer } from './common.ts';

/** The level at which headers and bodies are shown too, as in kubectl. */
export const HEADERS_LEVEL = 8;

/**
 * Prints each request to `server` while it runs: `GET <url> 200 OK in 3 milliseconds`.
 * Returns the function that stops the tracing.
 */
export function traceRequests(server: URL, level: number, err: Writer): () => void {
  const started = new WeakMap<http.ClientRequest, number>();
  // Why filter on the host: other code in the same process (a test's own server) may make requests too.
  const ours = (request: http.ClientRequest): boolean => request.getHeader('host') === server.host;
  const url = (request: http.ClientRequest): string => `${request.method} ${server.protocol}//${server.host}${request.path}`;

  const onStart = ({ request }: { request: http.ClientRequest }): void => {
    if (!ours(request)) return;
    started.set(request, performance.now());
    if (level >= HEADERS_LEVEL) err.write(`${url(request)}\n${headerLines(request)}`);
  };
  const onResponse = ({ request, response }: { request: http.ClientRequest; response: http.IncomingMessage }): void => {
    if (!ours(request)) return;
    const took = Math.round(performance.now() - (started.get(request) ?? performance.now()));
    const status = `${response.statusCode} ${response.statusMessage ?? ''}`.trim();
    const prefix = level >= HEADERS_LEVEL ? 'Response Status:' : url(request);
    err.write(`${prefix} ${status} in ${took} milliseconds\n`);
  };
  const onError = ({ request, error }: { request: http.ClientRequest; error: Error }): void => {
    if (ours(request)) err.write(`${url(request)} failed: ${error.message}\n`);
  };

  const channels: Array<[string, (message: never) => void]> = [
    ['http.client.request.start', onStart],
    ['http.client.response.finish', onResponse],
    ['http.client.request.error', onError],
  ];
  for (const [name, listener] of channels) diagnostics.subscribe(name, listener as (message: unknown) => void);
  return () => {
    for (const [name, listener] of channels) diagnostics.unsubscribe(name, listener as (message: unknown) => void);
  };
}

/** The headers that say what a request asks for and sends; the bearer token is masked, as kubectl masks it. */
function headerLines(request: http.ClientRequest): string {
  const shown: Array<[string, string]> = [
    ['Accept', 'accept'],
    ['Content-Type', 'content-type'],
    ['User-Agent', 'user-agent'],
    ['Authorization', 'authorization'],
  ];
  let text = 'Request Headers:\n';
  for (const [label, name] of shown) {
    const value = request.getHeader(name);
    if (value === undefined) continue;
    text += `    ${label}: ${name === 'authorization' ? 'Bearer <masked>' : String(value)}\n`;
  }
  return text;
}

/** A KubeClient that also prints each request body at -v=8, before the request goes out. */
export class VerboseClient extends KubeClient {
  constructor(
    config: KubeClientConfig,
    private readonly err: Writer,
  ) {
    super(config);
  }

  // Why override `request` only: it is the one method that sends bodies; watches and logs send none.
  override request<T = unknown>(req: RawRequest): Promise<T> {
    if (req.body !== undefined) this.err.write(`Request Body: ${JSON.stringify(req.body)}\n`);
    return super.request<T>(req);
  }
}
