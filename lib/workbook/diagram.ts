/**
 * State diagrams generated from the XState machines themselves, so the book
 * can never show a chart the code does not have. The output is Mermaid's
 * stateDiagram-v2 text: readable as is in a terminal, drawable by Mermaid.
 */

/** The parts of an XState v5 StateNode the diagram reads. */
interface NodeLike {
  key: string;
  type: string;
  states: Record<string, NodeLike>;
  initial?: { target?: readonly NodeLike[] };
  transitions: Map<string, readonly TransitionLike[]>;
  always?: readonly TransitionLike[];
}

interface TransitionLike {
  target?: readonly NodeLike[];
  guard?: string | { type?: string };
  actions?: ReadonlyArray<string | { type?: string }>;
}

/** True when `value` looks like an XState machine (has a root state node). */
export function isMachine(value: unknown): value is { root: unknown } {
  return typeof value === 'object' && value !== null && 'root' in value && typeof (value as { root?: unknown }).root === 'object';
}

const nameOf = (x: string | { type?: string } | undefined): string | undefined => (typeof x === 'string' ? x : x?.type);

/** A guard's name; XState's not/and/or helpers are functions that carry the guards they combine. */
function guardName(guard: TransitionLike['guard'] | ((...args: never[]) => unknown)): string | undefined {
  if (typeof guard === 'function') {
    const inner = ((guard as { guards?: ReadonlyArray<string | { type?: string }> }).guards ?? []).map(nameOf).join(guard.name === 'or' ? ' or ' : ' and ');
    return guard.name === 'not' ? `not ${inner}` : inner;
  }
  return nameOf(guard);
}

/**
 * An event as a reader thinks of it: the done and error events XState makes
 * for an invoked actor (`xstate.done.actor.0.rollout.scaling`) read as
 * `done` and `error`.
 */
function eventName(event: string): string {
  if (event.startsWith('xstate.done.actor.')) return 'done';
  if (event.startsWith('xstate.error.actor.')) return 'error';
  return event;
}

/** One arrow's label: the event, the guard in brackets, the actions after a slash. */
function label(event: string, t: TransitionLike): string {
  event = eventName(event);
  const guard = guardName(t.guard);
  const actions = (t.actions ?? []).map(nameOf).filter((a): a is string => Boolean(a) && !a!.startsWith('xstate.'));
  return `${event}${guard ? ` [${guard}]` : ''}${actions.length ? ` / ${actions.join(', ')}` : ''}`;
}

/** Renders a machine's states and transitions as a Mermaid stateDiagram-v2. */
export function machineDiagram(machine: { root: unknown }): string {
  const lines = ['stateDiagram-v2'];
  const walk = (node: NodeLike, indent: string) => {
    const initial = node.initial?.target?.[0];
    if (initial) lines.push(`${indent}[*] --> ${initial.key}`);
    for (const child of Object.values(node.states)) {
      if (Object.keys(child.states).length > 0) {
        lines.push(`${indent}state ${child.key} {`);
        walk(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
      for (const t of child.always ?? []) {
        for (const target of t.target ?? []) lines.push(`${indent}${child.key} --> ${target.key} : ${label('(always)', t)}`);
      }
      for (const [event, transitions] of child.transitions) {
        for (const t of transitions) {
          // A transition without a target stays in its state (it only runs actions).
          const targets = t.target?.length ? t.target : [child];
          for (const target of targets) lines.push(`${indent}${child.key} --> ${target.key} : ${label(event, t)}`);
        }
      }
      if (child.type === 'final') lines.push(`${indent}${child.key} --> [*]`);
    }
  };
  walk(machine.root as NodeLike, '  ');
  return lines.join('\n');
}
