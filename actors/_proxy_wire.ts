// How proxied callbacks cross to a worker: the host takes them out of a task's arguments and
// lists where they were (their paths); the worker puts stand-ins back at those paths. Only arrays
// and plain objects are searched, the containers structured clone would copy as they are.

import { anyProxies, proxyTarget } from "./proxy.ts";
import { isCloneError } from "./_transport.ts";

type Fn = (...args: unknown[]) => unknown;
type Key = string | number;

/** A task's arguments with their proxies taken out. */
export interface Encoded {
  /** The arguments, with `null` where a proxy was (containers on those paths are copies). */
  args: unknown[];
  /** Where each proxy was; its index is its id in calls. */
  paths: Key[][];
  /** The callbacks, by id. */
  fns: Fn[];
}

/** Takes the proxies out of `args`; undefined when there are none (`args` is then sent as is). */
export function encodeProxies(args: unknown[]): Encoded | undefined {
  if (!anyProxies()) return undefined;
  const found: Encoded = { args, paths: [], fns: [] };
  const replaced = visit(args, [], found, new Map());
  if (found.fns.length === 0) return undefined;
  found.args = replaced as unknown[];
  return found;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Returns `value`, or a copy with the proxies under it replaced by null. */
function visit(value: unknown, path: Key[], found: Encoded, seen: Map<object, unknown>): unknown {
  if (typeof value === "function") {
    const fn = proxyTarget(value);
    if (!fn) return value;
    found.paths.push([...path]);
    found.fns.push(fn);
    return null;
  }
  if (value === null || typeof value !== "object") return value;
  const isArray = Array.isArray(value);
  if (!isArray && !isPlain(value)) return value;
  const container = value as Record<Key, unknown>;
  let copy: Record<Key, unknown> | undefined;
  // Only containers that hold objects are remembered (most hold only primitives, and searching
  // one of those twice costs little and finds nothing). One met again is searched once and
  // replaced by the same copy: structured clone keeps the sharing, so the stand-in revived at
  // the first path is seen from every other, and a cycle ends.
  let entered = false;
  const step = (key: Key, item: unknown): unknown => {
    if (!entered) {
      entered = true;
      if (seen.has(value)) return seen;
      seen.set(value, value);
    }
    path.push(key);
    const next = visit(item, path, found, seen);
    path.pop();
    if (next !== item) {
      (copy ??= isArray ? copyOf(value as unknown[]) : { ...container })[key] = next;
    }
    return undefined;
  };
  if (isArray) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      if (item === null || (typeof item !== "object" && typeof item !== "function")) continue;
      if (step(i, item) === seen) return seen.get(value);
    }
  } else {
    for (const key in container) {
      const item = container[key];
      if (item === null || (typeof item !== "object" && typeof item !== "function")) continue;
      if (step(key, item) === seen) return seen.get(value);
    }
  }
  if (copy) seen.set(value, copy);
  return copy ?? value;
}

function copyOf(array: unknown[]): Record<Key, unknown> {
  return array.slice() as unknown as Record<Key, unknown>;
}

/** Puts `make(id)` at each path in `args` (a worker's own copy). */
export function reviveProxies(
  args: unknown[],
  paths: readonly (readonly Key[])[],
  make: (id: number) => Fn,
): void {
  paths.forEach((path, id) => {
    let container: Record<Key, unknown> = args as unknown as Record<Key, unknown>;
    for (let i = 0; i < path.length - 1; i++) {
      container = container[path[i]!] as Record<Key, unknown>;
    }
    container[path[path.length - 1]!] = make(id);
  });
}

/** Values a search for a misplaced proxy looks at before it gives up (it runs on a failure). */
const SEARCH_BUDGET = 100_000;

/**
 * Where a proxy() callback is in `args` (`args[0] (in a Map)`, say), searching every container,
 * Maps, Sets and class instances too, up to a budget; undefined when none is found. Only called
 * once sending failed: it tells the caller why a callback it passed could not be cloned.
 */
export function findProxy(args: unknown[]): string | undefined {
  if (!anyProxies()) return undefined;
  let budget = SEARCH_BUDGET;
  const seen = new Set<object>();
  const stack: [unknown, string, string][] = [];
  for (let i = args.length - 1; i >= 0; i--) stack.push([args[i], `args[${i}]`, ""]);
  while (stack.length > 0 && budget-- > 0) {
    const [value, path, where] = stack.pop()!;
    if (typeof value === "function") {
      if (proxyTarget(value)) return `${path}${where}`;
      continue;
    }
    if (value === null || typeof value !== "object" || seen.has(value)) continue;
    seen.add(value);
    try {
      if (value instanceof Map) {
        for (const [key, item] of value) {
          stack.push([key, path, " (a key of a Map)"], [item, path, " (in a Map)"]);
        }
      } else if (value instanceof Set) {
        for (const item of value) stack.push([item, path, " (in a Set)"]);
      } else {
        const plain = Array.isArray(value) || isPlain(value);
        for (const key of Object.keys(value)) {
          const inside = plain ? where : ` (in a ${value.constructor?.name || "class"} instance)`;
          stack.push([(value as Record<string, unknown>)[key], `${path}.${key}`, inside]);
        }
      }
    } catch {
      // A getter or a proxy that throws: this branch is not searched.
    }
  }
  return undefined;
}

/**
 * The error of a task whose arguments could not be sent: a `DataCloneError` that says where a
 * proxy() callback sits that could not go with them (inside a Map, a Set or a class instance,
 * which are not searched for callbacks), or `error` as it is.
 */
export function misplacedProxyError(args: unknown[], error: unknown): unknown {
  if (!isCloneError(error)) return error;
  const at = findProxy(args);
  if (at === undefined) return error;
  return new DOMException(
    `Cannot send the task's arguments as the proxy() callback at ${at} cannot be cloned: callbacks are found in the arguments themselves, in arrays and in plain objects, not in Maps, Sets or class instances; pass it there`,
    "DataCloneError",
  );
}
