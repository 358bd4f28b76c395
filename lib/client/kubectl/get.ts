/**
 * `kubectl get`: kubectl does not know how to print a Pod. It asks the API
 * server for a Table (`Accept: application/json;as=Table;...`), and the
 * server answers with column definitions and rows of cells; kubectl only
 * lays them out. `-o yaml|json|name` asks for the objects themselves
 * instead, and `-w` keeps a watch open and prints one row per change.
 */
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { KubeObject, Status } from '../../api/types.ts';
import type { Table, TableColumnDefinition } from '../../apiserver/tables.ts';
import { groupVersion, type ResourceInfo } from '../../apiserver/resources.ts';
import { KubeApiError, parseWatchEvent, resourcePath, type Query } from '../client.ts';
import { UsageError, type FlagSpec, type ParsedArgs } from './args.ts';
import { alignColumns } from './tabwriter.ts';
import { parseTargets, resourceNoun, type Command, type CommandContext, type Target } from './common.ts';

// #region table-accept
/** What kubectl sends to ask for a server-rendered Table, with plain JSON as the fallback. */
export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
// #endregion table-accept

/** The output formats of `get`; `table` is the default. */
export type Output = 'table' | 'wide' | 'yaml' | 'json' | 'name';

const OUTPUTS: Output[] = ['json', 'name', 'wide', 'yaml'];

/** What `get` was asked for, parsed. */
export interface GetRequest {
  targets: Target[];
  output: Output;
  labelSelector?: string;
  fieldSelector?: string;
  allNamespaces: boolean;
  watch: boolean;
}

const FLAGS: FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', description: 'Output format: wide, yaml, json or name.' },
  { name: 'selector', short: 'l', type: 'string', description: 'Only objects whose labels match, e.g. -l app=web.' },
  { name: 'field-selector', type: 'string', description: 'Only objects whose fields match, e.g. status.phase=Running.' },
  { name: 'all-namespaces', short: 'A', type: 'boolean', description: 'List across every namespace, with a NAMESPACE column.' },
  { name: 'watch', short: 'w', type: 'boolean', description: 'After listing, print a row for every change.' },
];

/** `get TYPE [NAME...]`: print objects as the server's Table, or as YAML, JSON or names. */
export const getCommand: Command = {
  name: 'get',
  summary: 'Display one or many resources',
  usage: 'get TYPE[,TYPE...] [NAME...] | TYPE/NAME... [-n NS | -A] [-l SELECTOR] [-o wide|yaml|json|name] [-w]',
  flags: FLAGS,
  run: (args, ctx) => runGet(getRequestFrom(args), ctx),
};

/** Reads the command line of `get` into a GetRequest. */
export function getRequestFrom(args: ParsedArgs): GetRequest {
  const request: GetRequest = {
    targets: parseTargets(args.positionals),
    output: parseOutput(args.string('output')),
    allNamespaces: args.bool('all-namespaces'),
    watch: args.bool('watch'),
  };
  const labelSelector = args.string('selector');
  const fieldSelector = args.string('field-selector');
  if (labelSelector) request.labelSelector = labelSelector;
  if (fieldSelector) request.fieldSelector = fieldSelector;
  return request;
}

function parseOutput(output: string | undefined): Output {
  if (output === undefined || output === '') return 'table';
  if ((OUTPUTS as string[]).includes(output)) return output as Output;
  throw new Error(`unable to match a printer suitable for the output format "${output}", allowed formats are: ${OUTPUTS.join(',')}`);
}

/** Runs a `get`: a table, objects, or a table followed by a watch. */
export async function runGet(request: GetRequest, ctx: CommandContext): Promise<void> {
  if (request.allNamespaces && request.targets.some((target) => target.names.length > 0)) {
    throw new Error('a resource cannot be retrieved by name across all namespaces');
  }
  if (request.watch) return watchTable(request, ctx);
  if (request.output === 'table' || request.output === 'wide') return printTables(request, ctx);
  return printObjects(request, ctx);
}

// ---- tables -------------------------------------------------------------------

/** How to show a table: which columns, and whether names carry their type (`pod/web`). */
interface TableView {
  wide: boolean;
  /** With -A, a NAMESPACE column comes first, read from each row's object metadata. */
  namespaceColumn: boolean;
  /** `pod/` when several types are printed at once, as kubectl marks them. */
  namePrefix: string;
}

function viewFor(target: Target, request: GetRequest): TableView {
  return {
    wide: request.output === 'wide',
    namespaceColumn: request.allNamespaces && target.info.namespaced,
    namePrefix: request.targets.length > 1 ? `${resourceNoun(target.info)}/` : '',
  };
}

// #region print-tables
/** One table per resource type, separated by a blank line; a message on stderr when all are empty. */
async function printTables(request: GetRequest, ctx: CommandContext): Promise<void> {
  let printed = 0;
  for (const target of request.targets) {
    const table = await fetchTable(target, request, ctx);
    if (table.rows.length === 0) continue;
    if (printed > 0) ctx.out.write('\n');
    ctx.out.write(formatTable(table, table.columnDefinitions, viewFor(target, request), { header: true }));
    printed++;
  }
  if (printed === 0) ctx.err.write(`${noResourcesFound(request, ctx)}\n`);
}
// #endregion print-tables

// #region fetch-table
/** Asks the server for a Table: the list of a type, or each named object. */
async function fetchTable(target: Target, request: GetRequest, ctx: CommandContext): Promise<Table> {
  const namespace = request.allNamespaces ? undefined : ctx.namespace;
  if (target.names.length === 0) {
    const query: Query = { labelSelector: request.labelSelector, fieldSelector: request.fieldSelector, limit: 500 };
    return requestTable(ctx, resourcePath(target.info, namespace), query);
  }
  const tables: Table[] = [];
  for (const name of target.names) tables.push(await requestTable(ctx, resourcePath(target.info, namespace, name), {}));
  // Why merge: one GET per name, but the user sees one table.
  return { ...tables[0]!, rows: tables.flatMap((table) => table.rows) };
}

async function requestTable(ctx: CommandContext, path: string, query: Query): Promise<Table> {
  const answer = await ctx.client.request<Table | KubeObject>({ method: 'GET', path, query, accept: TABLE_ACCEPT });
  // Why refuse: without a Table kubectl can only print names; a server that ignores the Accept header is the bug to see.
  if (answer.kind !== 'Table') throw new Error(`expected a Table from GET ${path} (Accept: ${TABLE_ACCEPT}), got kind ${JSON.stringify(answer.kind)}`);
  return answer as Table;
}
// #endregion fetch-table

/**
 * A Table as kubectl prints it: upper-case headers, columns 3 spaces apart,
 * wide (priority 1) columns only with -o wide, NAMESPACE first with -A.
 */
function formatTable(
  table: Table,
  columns: TableColumnDefinition[],
  view: TableView,
  options: { header: boolean; remembered?: number[] },
): string {
  const shown = columns.map((column, index) => ({ column, index })).filter(({ column }) => view.wide || column.priority === 0);
  const lines: string[] = [];
  if (options.header) {
    const names = shown.map(({ column }) => column.name.toUpperCase());
    lines.push((view.namespaceColumn ? ['NAMESPACE', ...names] : names).join('\t'));
  }
  for (const row of table.rows) {
    const cells = shown.map(({ column, index }) => {
      const text = cellText(row.cells[index]);
      return column.format === 'name' ? `${view.namePrefix}${text}` : text;
    });
    const namespace = row.object?.metadata.namespace ?? '';
    lines.push((view.namespaceColumn ? [namespace, ...cells] : cells).join('\t'));
  }
  const tabOptions = { padding: 3, minWidth: 6, ...(options.remembered ? { remembered: options.remembered } : {}) };
  return alignColumns(lines, tabOptions).map((line) => `${line}\n`).join('');
}

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return '<none>';
  return String(cell);
}

function noResourcesFound(request: GetRequest, ctx: CommandContext): string {
  const namespaced = request.targets.every((target) => target.info.namespaced);
  // Why two wordings: kubectl names the namespace only when it looked in just one.
  return namespaced && !request.allNamespaces ? `No resources found in ${ctx.namespace} namespace.` : 'No resources found';
}

// ---- watch --------------------------------------------------------------------

// #region watch-table
/**
 * `get -w`: the table, then a watch from the list's resourceVersion with the
 * same Table Accept, printing each event's row under the same columns. It
 * ends when the server closes the stream, as kubectl does.
 */
async function watchTable(request: GetRequest, ctx: CommandContext): Promise<void> {
  const target = singleWatchTarget(request);
  if (request.output !== 'table' && request.output !== 'wide') throw new UsageError('expected -w with the table output (default or -o wide)');
  const fieldSelector = watchFieldSelector(target, request);
  const namespace = request.allNamespaces ? undefined : ctx.namespace;
  const path = resourcePath(target.info, namespace);
  const list = await requestTable(ctx, path, { labelSelector: request.labelSelector, fieldSelector, limit: 500 });
  const printer = new WatchPrinter(viewFor(target, request), ctx);
  if (list.rows.length === 0) ctx.err.write(`${noResourcesFound(request, ctx)}\n`);
  printer.print(list);

  const query: Query = { watch: true, resourceVersion: list.metadata.resourceVersion, labelSelector: request.labelSelector, fieldSelector };
  const response = await ctx.client.requestStream({ method: 'GET', path, query, accept: TABLE_ACCEPT }).response;
  for await (const line of createInterface({ input: response, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const event = parseWatchEvent<Table>(line);
    if (event instanceof Error) throw event;
    // Why throw: an ERROR event carries a Status (410 Expired, say); kubectl prints it and stops.
    if (event.type === 'ERROR') throw new KubeApiError(event.object as Status);
    if (event.type === 'BOOKMARK') continue;
    printer.print(event.object as Table);
  }
}
// #endregion watch-table

function singleWatchTarget(request: GetRequest): Target {
  const [target] = request.targets;
  if (!target || request.targets.length > 1) throw new UsageError('you may only specify a single resource type with -w');
  if (target.names.length > 1) throw new UsageError('expected at most one name with -w');
  return target;
}

/** Watching one named object is watching the type with `metadata.name=<name>`. */
function watchFieldSelector(target: Target, request: GetRequest): string | undefined {
  const byName = target.names[0] === undefined ? undefined : `metadata.name=${target.names[0]}`;
  const selectors = [byName, request.fieldSelector].filter((s): s is string => s !== undefined);
  return selectors.length > 0 ? selectors.join(',') : undefined;
}

/** Prints the rows of successive Tables under one header, keeping the column widths seen so far. */
class WatchPrinter {
  private columns: TableColumnDefinition[] | undefined;
  private headerPrinted = false;
  private readonly remembered: number[] = [];

  constructor(
    private readonly view: TableView,
    private readonly ctx: CommandContext,
  ) {}

  print(table: Table): void {
    // Why keep the first definitions: the server sends them only with the list and the first watch event.
    if (table.columnDefinitions?.length) this.columns ??= table.columnDefinitions;
    if (!this.columns || table.rows.length === 0) return;
    // Why the header waits for a row: after an empty list, it comes with the first event.
    const header = !this.headerPrinted;
    this.headerPrinted = true;
    this.ctx.out.write(formatTable(table, this.columns, this.view, { header, remembered: this.remembered }));
  }
}

// ---- objects: -o yaml, json, name ----------------------------------------------

// #region print-objects
/** `-o yaml|json|name`: the full objects, as the server stores them; several objects make a List. */
async function printObjects(request: GetRequest, ctx: CommandContext): Promise<void> {
  const objects: KubeObject[] = [];
  for (const target of request.targets) objects.push(...(await fetchObjects(target, request, ctx)));
  if (request.output === 'name') {
    for (const object of objects) ctx.out.write(`${nameOf(object)}\n`);
    return;
  }
  // Why a List even for one item of a list: `get pods -o yaml` is a list, whatever its length.
  const single = request.targets.length === 1 && request.targets[0]!.names.length === 1;
  const shown = single ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects, metadata: { resourceVersion: '' } };
  ctx.out.write(request.output === 'json' ? `${JSON.stringify(shown, null, 4)}\n` : toYaml(shown));
}
// #endregion print-objects

async function fetchObjects(target: Target, request: GetRequest, ctx: CommandContext): Promise<KubeObject[]> {
  const namespace = request.allNamespaces ? undefined : ctx.namespace;
  if (target.names.length > 0) {
    const objects: KubeObject[] = [];
    for (const name of target.names) objects.push(await ctx.client.get(target.info, namespace, name));
    return objects;
  }
  const options = { namespace, labelSelector: request.labelSelector, fieldSelector: request.fieldSelector };
  const list = await ctx.client.list(target.info, options);
  return list.items.map((item) => withKind(target.info, item));
}

/** Items of a list may come without apiVersion and kind (the real server leaves them out); put them back. */
function withKind(info: ResourceInfo, item: KubeObject): KubeObject {
  // Why this order: the literal puts apiVersion and kind first; the item's own values, if any, still win.
  return Object.assign({ apiVersion: groupVersion(info), kind: info.kind }, item);
}

/** `deployment.apps/web`, as `-o name` prints it. */
function nameOf(object: KubeObject): string {
  const [group] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [''];
  const kind = object.kind.toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${object.metadata.name}`;
}

/**
 * YAML as kubectl writes it: keys sorted, lists not indented under their key,
 * long strings not folded, and strings that YAML 1.1 would read as something
 * else (`"2025-01-01T00:00:00Z"`, `"yes"`, `"on"`) quoted, as Go's YAML library quotes them.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { sortMapEntries: true, indentSeq: false, lineWidth: 0, version: '1.1' });
}
