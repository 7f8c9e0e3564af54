/**
 * Carries thrown values across a Web Worker or subprocess boundary.
 *
 * Structured clone (and V8 serialization, which a subprocess pipe carries) drops custom classes, a
 * custom `name`, own fields such as `code` and `AggregateError.errors`, so errors travel as a
 * {@linkcode WireError}: plain data that survives structured clone, V8 serialization and JSON.
 *
 * @module
 */

import { textOf } from "../future/_text.ts";
import {
  BrokenExecutorError,
  CancelledError,
  CircuitOpenError,
  InvalidStateError,
  TimeoutError,
  WorkerCrashedError,
} from "../future/errors.ts";

/**
 * A thrown `Error` (or subclass, or `DOMException`) as plain data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeError, type WireThrownError } from "./error_codec.ts";
 *
 * const wire = encodeError(new RangeError("too big")) as WireThrownError;
 * assert(wire.className === "RangeError" && wire.message === "too big");
 * ```
 */
export interface WireThrownError {
  /** Marks a thrown error. */
  kind: "error";
  /** The name of the error's constructor, such as `"TypeError"` or `"HttpError"`. */
  className: string;
  /** The error's `name`, such as `"TypeError"` or a `DOMException`'s `"AbortError"`. */
  name: string;
  /** The error's `message`. */
  message: string;
  /** The stack as it was where the error was thrown. */
  stack?: string;
  /** The error's `cause`, when it had one (left out on a cycle or past 16 levels). */
  cause?: WireError;
  /** An `AggregateError`'s `errors`. */
  errors?: WireError[];
  /** Own enumerable fields (`code`, `status`, …); values that are not plain data are strings. */
  props?: Record<string, unknown>;
  /**
   * Where the error's class is exported: a task or actor module's URL and the export's name. The
   * receiving side restores the class when it has imported that module too.
   */
  exportedAs?: { module: string; name: string };
  /**
   * Set only for an error of one of this library's own classes (the class itself, found by
   * identity): only then is it rebuilt as that class, never for a user class of the same name.
   */
  library?: true;
}

/**
 * A thrown value that is not an error: the value itself when it is plain data (`null`, a
 * boolean, a string, a finite number, `undefined`, arrays and plain objects of those), else
 * its `String()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeError } from "./error_codec.ts";
 *
 * assert(encodeError("boom").kind === "value");
 * ```
 */
export interface WireThrownValue {
  /** Marks a thrown value that is not an error. */
  kind: "value";
  /** The value; `undefined` is left out when the wire form passes through JSON. */
  value?: unknown;
}

/**
 * Any thrown value as plain data that survives both `structuredClone` (`postMessage`) and
 * `JSON.stringify`/`JSON.parse` (a subprocess pipe).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeError, encodeError, type WireError } from "./error_codec.ts";
 *
 * const wire: WireError = JSON.parse(JSON.stringify(encodeError(new TypeError("bad"))));
 * assert(decodeError(wire) instanceof TypeError);
 * ```
 */
export type WireError = WireThrownError | WireThrownValue;

const MAX_DEPTH = 16;
const UNSAFE: unique symbol = Symbol("unsafe");
const RESERVED = new Set(["name", "message", "stack", "cause"]);
const BUILTINS = new Map<string, ErrorConstructor>();
[Error, TypeError, RangeError, SyntaxError, ReferenceError, URIError, EvalError]
  .forEach((Class) => BUILTINS.set(Class.name, Class));
// deno-lint-ignore no-explicit-any
const registry = new Map<string, new (...args: any[]) => Error>();

/**
 * Lets errors of `Class` keep their class when they cross a worker or process boundary.
 * Classes exported by a pool's task modules or an actor's module need no registration: they are
 * found by module URL and export name. Without either, a custom error arrives as an `Error`
 * whose `name` is the class name.
 *
 * Call it in a module that BOTH sides import (e.g. the task module itself, at top level),
 * because the worker decodes and encodes errors too. Classes are keyed by `Class.name`:
 * registering the same class again does nothing, and a different class with the same name
 * replaces the earlier one. A decoded error is made with `Object.create(Class.prototype)`
 * (the constructor is not called, so required arguments are no obstacle); its `message`,
 * `name`, `stack`, `cause` and own fields are copied from the remote error.
 *
 * @param Class A class whose prototype is an `Error`.
 * @throws {TypeError} If `Class` is not such a class, or has no name.
 *
 * @example
 * ```ts
 * import { registerErrorClass } from "@concurrent/futures";
 *
 * export class HttpError extends Error {
 *   constructor(readonly status: number) {
 *     super(`HTTP ${status}`);
 *     this.name = "HttpError";
 *   }
 * }
 * registerErrorClass(HttpError);
 * ```
 */
export function registerErrorClass(
  // deno-lint-ignore no-explicit-any
  Class: new (...args: any[]) => Error,
): void {
  let proto: unknown;
  try {
    proto = typeof Class === "function" ? Class.prototype : undefined;
  } catch { /* an unreadable prototype is rejected below */ }
  if (!(proto === Error.prototype || proto instanceof Error)) {
    throw new TypeError(
      `Cannot register error class as 'Class' must be a constructor whose prototype is an Error: received ${
        textOf(Class)
      }`,
    );
  }
  if (!Class.name) {
    throw new TypeError(
      `Cannot register error class as 'Class' must have a name: received ${textOf(Class)}`,
    );
  }
  registry.set(Class.name, Class);
}

// Error classes exported by the task and actor modules each side has imported, both ways.
// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;
const exportOf = new Map<ErrorClass, { module: string; name: string }>();
const exported = new Map<string, ErrorClass>();

/**
 * Indexes the error classes a module exports, so that errors of those classes keep their class
 * across the boundary without `registerErrorClass`. Pools and actors call it for their modules
 * on both sides; internal.
 *
 * @param url the module's URL, as both sides know it
 * @param namespace the imported module
 */
export function indexModuleErrors(url: string, namespace: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(namespace)) {
    let proto: unknown;
    try {
      proto = typeof value === "function" ? value.prototype : undefined;
    } catch {
      continue;
    }
    if (!(proto instanceof Error) || BUILTINS.has(name)) continue;
    const Class = value as ErrorClass;
    if (!exportOf.has(Class)) exportOf.set(Class, { module: url, name });
    exported.set(`${url}#${name}`, Class);
  }
}

// The library's own classes, kept apart from the user's registry: a user class that happens to be
// named `TimeoutError` is not the library's and must not come back as it.
const LIBRARY = new Map<string, ErrorClass>(
  [
    CancelledError,
    TimeoutError,
    InvalidStateError,
    BrokenExecutorError,
    WorkerCrashedError,
    CircuitOpenError,
  ].map((Class) => [Class.name, Class]),
);

/**
 * Describes a thrown value as a {@linkcode WireError}. Never throws: parts that cannot be read
 * or are not plain data are left out or turned into strings.
 *
 * @param error Any thrown value.
 * @returns Its wire form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeError } from "./error_codec.ts";
 *
 * const wire = encodeError(Object.assign(new Error("gone"), { code: "ENOENT" }));
 * assert(wire.kind === "error" && wire.props?.code === "ENOENT");
 * ```
 */
export function encodeError(error: unknown): WireError {
  try {
    return encodeAt(error, 0, new Set());
  } catch {
    return { kind: "value", value: textOf(error) };
  }
}

function encodeAt(error: unknown, depth: number, path: Set<object>): WireError {
  if (!isError(error)) {
    const value = plain(error);
    return { kind: "value", value: value === UNSAFE ? textOf(error) : value };
  }
  const ctor = read(error, "constructor");
  const ctorName = typeof ctor === "function" ? read(ctor, "name") : undefined;
  const name = read(error, "name");
  const message = read(error, "message");
  const stack = read(error, "stack");
  const wire: WireThrownError = {
    kind: "error",
    className: typeof ctorName === "string" && ctorName ? ctorName : "Error",
    name: typeof name === "string" ? name : "Error",
    message: typeof message === "string" ? message : "",
  };
  if (typeof stack === "string") wire.stack = stack;
  const origin = typeof ctor === "function" ? exportOf.get(ctor as ErrorClass) : undefined;
  if (origin) wire.exportedAs = { ...origin };
  if (LIBRARY.get(wire.className) === ctor) wire.library = true;
  path.add(error);
  const nest = (value: unknown) =>
    depth < MAX_DEPTH &&
    !(typeof value === "object" && value !== null && path.has(value));
  if (Object.hasOwn(error, "cause")) {
    const cause = read(error, "cause");
    if (nest(cause)) wire.cause = encodeAt(cause, depth + 1, path);
  }
  const errors = error instanceof AggregateError ? read(error, "errors") : undefined;
  if (Array.isArray(errors)) {
    wire.errors = errors.filter(nest).map((e) => encodeAt(e, depth + 1, path));
  }
  path.delete(error);
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (RESERVED.has(key) || (key === "errors" && wire.errors)) continue;
    const value = read(error, key);
    if (typeof value === "function") continue;
    const copy = plain(value);
    define(props, key, copy === UNSAFE ? textOf(value) : copy, true);
  }
  if (Object.keys(props).length > 0) wire.props = props;
  return wire;
}

/**
 * Rebuilds a thrown value from its {@linkcode WireError}. Built-in error classes,
 * `DOMException`, the library's own errors and classes passed to
 * {@linkcode registerErrorClass} keep their class; any other class arrives as an `Error`
 * whose `name` is the remote `name` (or the class name, when the remote `name` is just
 * `"Error"`). The remote `stack`, `cause` and own fields are restored.
 *
 * @param wire The wire form made by {@linkcode encodeError}.
 * @returns The rebuilt error, or the thrown value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeError, encodeError } from "./error_codec.ts";
 *
 * const error = decodeError(encodeError(new URIError("bad %"))) as URIError;
 * assert(error instanceof URIError && error.message === "bad %");
 * ```
 */
export function decodeError(wire: WireError): unknown {
  if (wire.kind !== "error") return wire.value;
  const origin = wire.exportedAs;
  const Class = (origin && exported.get(`${origin.module}#${origin.name}`)) ??
    (wire.library ? LIBRARY.get(wire.className) : registry.get(wire.className));
  let error: Error;
  if (Class) {
    error = Object.create(Class.prototype);
    define(error, "message", wire.message, false);
  } else if (wire.className === "DOMException") {
    error = new DOMException(wire.message, wire.name);
  } else if (wire.className === "AggregateError") {
    error = new AggregateError(
      (wire.errors ?? []).map(decodeError),
      wire.message,
    );
  } else {
    error = new (BUILTINS.get(wire.className) ?? Error)(wire.message);
  }
  const builtin = !Class && BUILTINS.has(wire.className);
  const name = Class || builtin || wire.name !== "Error" ? wire.name : wire.className;
  if (error.name !== name) define(error, "name", name, true);
  define(error, "stack", wire.stack ?? `${name}: ${wire.message}`, false);
  if (wire.errors && !Object.hasOwn(error, "errors")) {
    define(error, "errors", wire.errors.map(decodeError), false);
  }
  if (wire.cause) define(error, "cause", decodeError(wire.cause), false);
  for (const [key, value] of Object.entries(wire.props ?? {})) {
    if (!RESERVED.has(key)) define(error, key, value, true);
  }
  return error;
}

function isError(value: unknown): value is Error {
  return value instanceof Error ||
    (typeof Error.isError === "function" && Error.isError(value));
}

/** A copy of `value` when it is plain data, else `UNSAFE`. */
function plain(value: unknown, depth = 0, path = new Set<object>()): unknown {
  try {
    return copyPlain(value, depth, path);
  } catch {
    return UNSAFE;
  }
}

function copyPlain(value: unknown, depth: number, path: Set<object>): unknown {
  if (value === null || value === undefined) return value;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : UNSAFE;
    case "object":
      break;
    default:
      return UNSAFE;
  }
  const proto = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value) && proto === Array.prototype;
  if (!isArray && proto !== Object.prototype && proto !== null) return UNSAFE;
  if (depth >= MAX_DEPTH || path.has(value)) return UNSAFE;
  path.add(value);
  const copy: Record<string, unknown> | unknown[] = isArray ? [] : {};
  for (const key of Object.keys(value)) {
    const item = copyPlain(
      (value as Record<string, unknown>)[key],
      depth + 1,
      path,
    );
    if (item === UNSAFE) return UNSAFE;
    define(copy, key, item, true);
  }
  path.delete(value);
  return copy;
}

function read(target: object, key: PropertyKey): unknown {
  try {
    return Reflect.get(target, key);
  } catch {
    return undefined;
  }
}

function define(
  target: object,
  key: string,
  value: unknown,
  enumerable: boolean,
): void {
  Object.defineProperty(target, key, {
    value,
    enumerable,
    writable: true,
    configurable: true,
  });
}
