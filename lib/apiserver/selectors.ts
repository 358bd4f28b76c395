/**
 * Label selectors and field selectors, as the API server reads them from
 * `?labelSelector=` and `?fieldSelector=` and as controllers read them from
 * `spec.selector`. The grammar, the matching rules and the error messages
 * follow k8s.io/apimachinery/pkg/labels and pkg/fields, so that
 * `kubectl get pods -l 'app in (web'` fails here exactly as it fails against
 * a real cluster.
 */
import type { Event, Job, KubeObject, LabelSelector, Namespace, Node, Pod, ReplicaSet, Service } from '../api/types.ts';
import type { ResourceInfo } from './resources.ts';
import { badRequest } from './status.ts';
import { isQualifiedName, isValidLabelValue } from './validation.ts';

// ---- label requirements ---------------------------------------------------

/** A label operator, spelled as k8s.io/apimachinery/pkg/selection spells it. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** One condition on one label key; a selector is a list of them, all of which must hold. */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Empty for `exists` and `!`; exactly one for `=`, `==`, `!=`, `gt`, `lt`; sorted and unique for `in` and `notin`. */
  values: string[];
}

/** The binary operators in the order the real parser names them when it expected one. */
const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

/**
 * Builds one requirement and checks it as labels.NewRequirement does: the key
 * must be a qualified name, the values must be label values, and their count
 * must fit the operator. Throws with the field-error wording of the real one.
 */
function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const errors: string[] = [];
  const keyErrors = isQualifiedName(key);
  if (keyErrors.length > 0) errors.push(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrors.join('; ')}`);
  const countError = valueCountError(operator, values);
  if (countError) errors.push(`values: Invalid value: ${goStrings(values)}: ${countError}`);
  values.forEach((value, i) => {
    const valueErrors = isValidLabelValue(value);
    if (valueErrors.length > 0) errors.push(`values[${i}][${key}]: Invalid value: ${JSON.stringify(value)}: ${valueErrors.join('; ')}`);
  });
  if (errors.length > 0) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
  return { key, operator, values };
}

/** What is wrong with the number of values for this operator, or undefined when it fits. */
function valueCountError(operator: LabelOperator, values: string[]): string | undefined {
  switch (operator) {
    case 'in':
    case 'notin':
      return values.length === 0 ? "for 'in', 'notin' operators, values set can't be empty" : undefined;
    case '=':
    case '==':
    case '!=':
      return values.length !== 1 ? 'exact-match compatibility requires one single value' : undefined;
    case 'exists':
    case '!':
      return values.length !== 0 ? 'values set must be empty for exists and does not exist' : undefined;
    case 'gt':
    case 'lt':
      if (values.length !== 1) return "for 'Gt', 'Lt' operators, exactly one value is required";
      return /^[+-]?\d+$/.test(values[0] ?? '') ? undefined : "for 'Gt', 'Lt' operators, the value must be an integer";
  }
}

/** `[]string{"a", "b"}`: a list of strings as Go's %#v prints it, which is how the real errors show bad values. */
function goStrings(values: string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

// ---- the label selector lexer ---------------------------------------------

type TokenKind = 'identifier' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<' | 'end';

interface Token {
  kind: TokenKind;
  /** The text as typed; empty at the end of the string. */
  text: string;
}

const SPECIAL_SYMBOLS = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

/** Splits a selector string into tokens: identifiers, the keywords `in`/`notin`, and operator symbols. */
function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (true) {
    while (pos < text.length && WHITESPACE.has(text[pos] ?? '')) pos++;
    if (pos >= text.length) break;
    // Why two characters first: `!=` and `==` must win over `!` and `=`.
    const two = text.slice(pos, pos + 2);
    if (two === '!=' || two === '==') {
      tokens.push({ kind: two, text: two });
      pos += 2;
    } else if (SPECIAL_SYMBOLS.has(text[pos] ?? '')) {
      const one = text[pos] as TokenKind;
      tokens.push({ kind: one, text: one });
      pos += 1;
    } else {
      const start = pos;
      while (pos < text.length && !SPECIAL_SYMBOLS.has(text[pos] ?? '') && !WHITESPACE.has(text[pos] ?? '')) pos++;
      const word = text.slice(start, pos);
      tokens.push({ kind: word === 'in' || word === 'notin' ? word : 'identifier', text: word });
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

// ---- the label selector parser --------------------------------------------

/**
 * A recursive-descent parser for the selector grammar:
 *
 *   selector    ::= requirement | requirement "," selector
 *   requirement ::= ["!"] KEY [ ("in" | "notin") "(" values ")" | ("=" | "==" | "!=") VALUE ]
 *
 * Inside a value position the words `in` and `notin` are plain values
 * (`mode in (in)` is legal), so every read says which position it is in.
 */
class LabelSelectorParser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    while (true) {
      const next = this.peek('value');
      if (next.kind === 'end') return requirements;
      if (next.kind !== 'identifier' && next.kind !== '!') {
        throw new Error(`found '${next.text}', expected: !, identifier, or 'end of string'`);
      }
      requirements.push(this.requirementOrExplain());
      const after = this.take('value');
      if (after.kind === 'end') return requirements;
      if (after.kind !== ',') throw new Error(`found '${after.text}', expected: ',' or 'end of string'`);
      const following = this.peek('value');
      if (following.kind !== 'identifier' && following.kind !== '!') {
        throw new Error(`found '${following.text}', expected: identifier after ','`);
      }
    }
  }

  /** One requirement; its errors are prefixed as the real parser prefixes them. */
  private requirementOrExplain(): LabelRequirement {
    try {
      return this.requirement();
    } catch (error) {
      throw new Error(`unable to parse requirement: ${(error as Error).message}`);
    }
  }

  private requirement(): LabelRequirement {
    const { key, unary } = this.keyAndUnaryOperator();
    if (unary) return newRequirement(key, unary, []);
    const operator = this.binaryOperator();
    const values = operator === 'in' || operator === 'notin' ? this.valueSet() : this.exactValue();
    return newRequirement(key, operator, values);
  }

  /** Reads `[!]KEY`; the operator is `!` or `exists` when nothing follows the key, and undefined when a binary operator must follow. */
  private keyAndUnaryOperator(): { key: string; unary?: 'exists' | '!' } {
    let token = this.take('value');
    const negated = token.kind === '!';
    if (negated) token = this.take('value');
    if (token.kind !== 'identifier') throw new Error(`found '${token.text}', expected: identifier`);
    const keyErrors = isQualifiedName(token.text);
    // Why `<nil>`: the real parser reports the key against an empty field path, and Go prints it so.
    if (keyErrors.length > 0) throw new Error(`<nil>: Invalid value: ${JSON.stringify(token.text)}: ${keyErrors.join('; ')}`);
    const after = this.peek('value').kind;
    if (negated) return { key: token.text, unary: '!' };
    if (after === 'end' || after === ',') return { key: token.text, unary: 'exists' };
    return { key: token.text };
  }

  private binaryOperator(): LabelOperator {
    const token = this.take('operator');
    switch (token.kind) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return token.kind;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new Error(`found '${token.text}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  /** Reads `( v1, v2, ... )`; empty entries such as `(a,,b)` or `()` stand for the empty value. */
  private valueSet(): string[] {
    const open = this.take('value');
    if (open.kind !== '(') throw new Error(`found '${open.text}' expected: '('`);
    const first = this.peek('value');
    if (first.kind === ')') {
      this.take('value');
      return [''];
    }
    if (first.kind !== 'identifier' && first.kind !== ',') {
      throw new Error(`found '${first.text}', expected: ',', ')' or identifier`);
    }
    const values = this.valueList();
    this.take('value'); // the closing parenthesis valueList stopped at
    return values;
  }

  private valueList(): string[] {
    const values = new Set<string>();
    while (true) {
      const token = this.take('value');
      if (token.kind === 'identifier') {
        values.add(token.text);
        const after = this.peek('value');
        if (after.kind === ')') return sortedValues(values);
        if (after.kind !== ',') throw new Error(`found '${after.text}', expected: ',' or ')'`);
      } else if (token.kind === ',') {
        // Why: a comma with nothing before it, or before `)` or another comma, stands for an empty value.
        const after = this.peek('value').kind;
        if (values.size === 0 || after === ')' || after === ',') values.add('');
        if (after === ')') return sortedValues(values);
      } else {
        throw new Error(`found '${token.text}', expected: ',', or identifier`);
      }
    }
  }

  /** Reads the one value after `=`, `==` or `!=`; nothing at all means the empty value (`tier=`). */
  private exactValue(): string[] {
    const next = this.peek('value');
    if (next.kind === 'end' || next.kind === ',') return [''];
    const token = this.take('value');
    if (token.kind !== 'identifier') throw new Error(`found '${token.text}', expected: identifier`);
    return [token.text];
  }

  private peek(position: 'value' | 'operator'): Token {
    return asPositioned(this.tokens[this.position] ?? { kind: 'end', text: '' }, position);
  }

  private take(position: 'value' | 'operator'): Token {
    const token = this.peek(position);
    this.position = Math.min(this.position + 1, this.tokens.length - 1);
    return token;
  }
}

/** In a value position, the keywords `in` and `notin` are ordinary identifiers. */
function asPositioned(token: Token, position: 'value' | 'operator'): Token {
  if (position === 'value' && (token.kind === 'in' || token.kind === 'notin')) return { kind: 'identifier', text: token.text };
  return token;
}

function sortedValues(values: Set<string>): string[] {
  return [...values].sort();
}

/** Sorted by key, as the real parser sorts them, so that equal selectors print and compare the same. */
function byKey(requirements: LabelRequirement[]): LabelRequirement[] {
  return [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Parses a label selector string (`app=web,tier!=db`, `env in (prod,staging)`,
 * `!canary`) into requirements sorted by key. An empty string selects
 * everything. A malformed string throws a 400 BadRequest whose message says
 * what the parser found and what it expected.
 */
export function parseLabelSelector(text: string): LabelRequirement[] {
  try {
    return byKey(new LabelSelectorParser(lex(text)).parse());
  } catch (error) {
    throw badRequest((error as Error).message);
  }
}

// ---- label selectors from objects -----------------------------------------

const SPEC_OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * Converts a `spec.selector` (matchLabels plus matchExpressions) into
 * requirements, as metav1.LabelSelectorAsSelector does. An empty selector
 * gives no requirements, which matches everything.
 *
 * Callers holding an optional selector must decide what a missing one means:
 * in the real API a nil selector selects nothing (a Deployment, ReplicaSet
 * or Job without one is rejected by validation anyway); `selectorMatches`
 * below encodes that.
 */
export function labelSelectorFromSpec(selector: LabelSelector): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  try {
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) requirements.push(newRequirement(key, '=', [value]));
    for (const expression of selector.matchExpressions ?? []) {
      const operator = SPEC_OPERATORS[expression.operator];
      if (!operator) throw new Error(`${JSON.stringify(expression.operator)} is not a valid label selector operator`);
      requirements.push(newRequirement(expression.key, operator, [...(expression.values ?? [])]));
    }
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  return byKey(requirements);
}

/**
 * Requirements for a plain map selector such as a Service's `spec.selector`
 * or a Pod's `nodeSelector`: every key must have exactly that value.
 * An empty map gives no requirements, which matches everything — but note
 * that the endpoints controller gives a Service with no selector no
 * endpoints at all; it must check for that before calling this.
 */
export function selectorFromSet(set: Record<string, string>): LabelRequirement[] {
  return byKey(Object.entries(set).map(([key, value]) => ({ key, operator: '=' as const, values: [value] })));
}

/** Whether a set of labels satisfies every requirement (no requirements: always true). */
export function matchesLabels(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  return requirements.every((requirement) => requirementMatches(requirement, labels ?? {}));
}

function requirementMatches({ key, operator, values }: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, key);
  const value = labels[key];
  switch (operator) {
    case 'in':
    case '=':
    case '==':
      return has && values.includes(value ?? '');
    case 'notin':
    case '!=':
      // Why: a missing label is "not equal" to anything, so `tier!=db` matches pods with no tier.
      return !has || !values.includes(value ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt':
      return has && compareAsIntegers(operator, value ?? '', values[0] ?? '');
  }
}

function compareAsIntegers(operator: 'gt' | 'lt', labelValue: string, bound: string): boolean {
  // Why: a label that is not an integer never satisfies Gt or Lt; it is not an error.
  if (!/^[+-]?\d+$/.test(labelValue)) return false;
  const actual = Number(labelValue);
  return operator === 'gt' ? actual > Number(bound) : actual < Number(bound);
}

/**
 * Whether an object's labels satisfy a `spec.selector` that may be missing.
 * A missing selector selects nothing, as metav1.LabelSelectorAsSelector(nil)
 * does; an empty one (`{}`) selects everything.
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  return matchesLabels(labelSelectorFromSpec(selector), labels);
}

// ---- printing label selectors ---------------------------------------------

/** Requirements printed as labels.Selector.String() prints them: `app=web,tier in (a,b),!canary`. */
export function formatLabelRequirements(requirements: LabelRequirement[]): string {
  return requirements.map(formatRequirement).join(',');
}

function formatRequirement({ key, operator, values }: LabelRequirement): string {
  const shown = [...values].sort().join(',');
  switch (operator) {
    case 'exists':
      return key;
    case '!':
      return `!${key}`;
    case 'in':
    case 'notin':
      return `${key} ${operator} (${shown})`;
    case 'gt':
      return `${key}>${shown}`;
    case 'lt':
      return `${key}<${shown}`;
    default:
      return `${key}${operator}${shown}`;
  }
}

/**
 * A `spec.selector` printed as metav1.FormatLabelSelector prints it for
 * kubectl's tables: `app=web`, `app in (a,b)`, `<none>` when it selects
 * everything or is missing, `<error>` when it is malformed.
 */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '<none>';
  let requirements: LabelRequirement[];
  try {
    requirements = labelSelectorFromSpec(selector);
  } catch {
    return '<error>';
  }
  return requirements.length === 0 ? '<none>' : formatLabelRequirements(requirements);
}

// ---- field selectors ------------------------------------------------------

/** One condition of a field selector: a field path, `=`/`==` or `!=`, and a value. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

const FIELD_OPERATORS = ['!=', '==', '='] as const;

/**
 * Parses a field selector (`status.phase=Running,spec.nodeName!=node-1`)
 * into requirements. Values may contain `\,`, `\=` and `\\` escapes; an
 * unescaped `,` or `=` in a value, or an unknown escape, is a 400 BadRequest.
 * Which fields may be used depends on the resource: see checkFieldSelector.
 */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(text).sort()) {
    if (term === '') continue;
    const split = splitTerm(term);
    if (!split) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    requirements.push({ field: split.field, operator: split.operator, value: unescapeValue(split.value) });
  }
  return requirements;
}

/** Splits on commas that are not escaped with a backslash; the escapes stay in the terms. */
function splitTerms(text: string): string[] {
  if (text === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** Splits `field<op>value` at the first operator; field names take no escapes, so the first one found wins. */
function splitTerm(term: string): { field: string; operator: FieldRequirement['operator']; value: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const operator of FIELD_OPERATORS) {
      if (term.startsWith(operator, i)) return { field: term.slice(0, i), operator, value: term.slice(i + operator.length) };
    }
  }
  return undefined;
}

function unescapeValue(value: string): string {
  let out = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      throw badRequest(`invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  // Why: a value ending in a lone backslash escapes nothing.
  if (escaped) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Whether an object's selectable fields satisfy every requirement; a field the object lacks counts as "". */
export function matchesFields(requirements: FieldRequirement[], fields: Record<string, string>): boolean {
  return requirements.every(({ field, operator, value }) => {
    const actual = fields[field] ?? '';
    return operator === '!=' ? actual !== value : actual === value;
  });
}

// ---- which fields each resource can select on -------------------------------

/**
 * The field labels each resource accepts in a field selector, and how it
 * words a refusal. These are the conversion functions the real API server
 * registers per kind (pkg/apis/core/v1/conversion.go and friends); a kind
 * without one accepts only metadata.name and metadata.namespace.
 */
interface FieldLabels {
  accepted: string[];
  /** Old names the real server still accepts, and the field each stands for. */
  aliases?: Record<string, string>;
  refuse: (field: string) => string;
}

const NOT_SUPPORTED = (field: string): string => `field label not supported: ${field}`;

const FIELD_LABELS: Record<string, FieldLabels> = {
  // #region field-labels
  pods: {
    accepted: [
      'metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName',
      'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName',
    ],
    aliases: { 'spec.host': 'spec.nodeName' },
    refuse: NOT_SUPPORTED,
  },
  nodes: { accepted: ['metadata.name', 'spec.unschedulable'], refuse: NOT_SUPPORTED },
  namespaces: { accepted: ['metadata.name', 'status.phase'], refuse: NOT_SUPPORTED },
  services: { accepted: ['metadata.name', 'metadata.namespace', 'spec.clusterIP', 'spec.type'], refuse: NOT_SUPPORTED },
  events: {
    accepted: [
      'metadata.name', 'metadata.namespace', 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name',
      'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
      'reason', 'reportingComponent', 'source', 'type',
    ],
    refuse: NOT_SUPPORTED,
  },
  jobs: {
    accepted: ['metadata.name', 'metadata.namespace', 'status.successful'],
    refuse: (field) => `field label ${JSON.stringify(field)} not supported for batchv1.Job`,
  },
  // #endregion field-labels
};

/**
 * Every other resource, ReplicaSets included: the real apps/v1 registers no
 * conversion for ReplicaSet, so `status.replicas` is refused even though the
 * registry computes it (kubernetes/kubernetes#135136).
 */
const METADATA_ONLY: FieldLabels = {
  accepted: ['metadata.name', 'metadata.namespace'],
  refuse: (field) => `${JSON.stringify(field)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
};

/**
 * Checks a parsed field selector against what the resource supports, and
 * rewrites old field names to current ones (`spec.host` → `spec.nodeName`).
 * A field the resource does not support is a 400 BadRequest worded as the
 * real server words it for that kind, e.g. `field label not supported: spec.image`.
 */
export function checkFieldSelector(resource: ResourceInfo, requirements: FieldRequirement[]): FieldRequirement[] {
  const labels = FIELD_LABELS[resource.resource] ?? METADATA_ONLY;
  return requirements.map((requirement) => {
    const field = labels.aliases?.[requirement.field] ?? requirement.field;
    if (!labels.accepted.includes(field)) throw badRequest(labels.refuse(requirement.field));
    return { ...requirement, field };
  });
}

/**
 * The selectable fields of one object, as strings, as the real registry's
 * `...ToSelectableFields` functions compute them: metadata.name (and
 * metadata.namespace for namespaced resources) for every resource, plus the
 * resource's own fields. Given the requirements a request asks for, it first
 * checks them with checkFieldSelector, so an unsupported field is a 400.
 */
export function fieldsOf(resource: ResourceInfo, object: KubeObject, requirements: FieldRequirement[] = []): Record<string, string> {
  checkFieldSelector(resource, requirements);
  const fields: Record<string, string> = { 'metadata.name': object.metadata.name ?? '' };
  if (resource.namespaced) fields['metadata.namespace'] = object.metadata.namespace ?? '';
  return { ...fields, ...(OWN_FIELDS[resource.resource]?.(object) ?? {}) };
}

// #region selectable-fields
const OWN_FIELDS: Record<string, (object: KubeObject) => Record<string, string>> = {
  pods: (object) => {
    const pod = object as Pod;
    return {
      'spec.nodeName': pod.spec?.nodeName ?? '',
      'spec.restartPolicy': pod.spec?.restartPolicy ?? '',
      'spec.schedulerName': pod.spec?.schedulerName ?? '',
      'spec.serviceAccountName': typeof pod.spec?.serviceAccountName === 'string' ? pod.spec.serviceAccountName : '',
      'spec.hostNetwork': String(pod.spec?.hostNetwork ?? false),
      'status.phase': pod.status?.phase ?? '',
      // Why: the real registry reads the first of status.podIPs, which is the same address as status.podIP.
      'status.podIP': pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP ?? '',
      'status.nominatedNodeName': pod.status?.nominatedNodeName ?? '',
    };
  },
  nodes: (object) => ({ 'spec.unschedulable': String((object as Node).spec?.unschedulable ?? false) }),
  namespaces: (object) => ({ 'status.phase': (object as Namespace).status?.phase ?? '' }),
  services: (object) => {
    const service = object as Service;
    return { 'spec.clusterIP': service.spec?.clusterIP ?? '', 'spec.type': service.spec?.type ?? '' };
  },
  events: (object) => {
    const event = object as Event;
    const involved = event.involvedObject ?? {};
    return {
      'involvedObject.kind': involved.kind ?? '',
      'involvedObject.namespace': involved.namespace ?? '',
      'involvedObject.name': involved.name ?? '',
      'involvedObject.uid': involved.uid ?? '',
      'involvedObject.apiVersion': involved.apiVersion ?? '',
      'involvedObject.resourceVersion': involved.resourceVersion ?? '',
      'involvedObject.fieldPath': involved.fieldPath ?? '',
      reason: event.reason ?? '',
      reportingComponent: event.reportingComponent ?? '',
      // Why: `source` is source.component, falling back to the newer reportingComponent.
      source: event.source?.component || event.reportingComponent || '',
      type: event.type ?? '',
    };
  },
  replicasets: (object) => ({ 'status.replicas': String((object as ReplicaSet).status?.replicas ?? 0) }),
  jobs: (object) => ({ 'status.successful': String((object as Job).status?.succeeded ?? 0) }),
};
// #endregion selectable-fields
