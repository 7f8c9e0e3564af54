// The one validation module of the library: every check of what users pass, for every layer
// (future/, sync/, actors/, executors/, distributed/), with one message form,
// `Cannot <action> as '<path>' must be <rule>: received <value>` (a RangeError for a number out
// of range, a TypeError otherwise), unknown keys with the closest known name, a positional value
// where an options object belongs (Python's `result(50)`, `shutdown(False)`), and the table of
// renamed options. Option shapes with their own file (Backoff: actors/_backoff.ts) compose these.

/** A value as an error message shows it: strings quoted, objects by kind. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return String(value);
}

/**
 * Throws a TypeError naming the first key of `options` that is not in `known`, with the closest
 * known key as a suggestion (`maxWorker`, `max_workers` → `maxWorkers`).
 */
export function checkKnownKeys(
  what: string,
  options: object,
  known: readonly string[],
  kind = "an option",
  prefix = "",
): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const python = PYTHON_NAMES[key];
    const near = python !== undefined && known.includes(python) ? python : closest(key, known);
    throw new TypeError(
      `Cannot ${what} as '${prefix}${key}' is not ${kind}${
        near ? ` (did you mean '${prefix}${near}'?)` : ""
      }`,
    );
  }
}

/** What was being done (`"create WorkerPoolExecutor"`) and the option's path (`"restartLimit.max"`). */
export interface OptionPath {
  action: string;
  path: string;
}

/**
 * Throws the one argument error of this library: `Cannot <action> as '<path>' must be <rule>:
 * received <value>`, a RangeError for a number out of range (`range`) and a TypeError otherwise.
 */
export function refuse(
  at: OptionPath,
  rule: string,
  value: unknown,
  range = typeof value === "number",
): never {
  const message = `Cannot ${at.action} as '${at.path}' must be ${rule}: received ${show(value)}`;
  throw range ? new RangeError(message) : new TypeError(message);
}

/**
 * The renamed options of this library, old name → new name, by where they are read. An old name
 * keeps working for one minor version (its doc comment says `@deprecated`); giving both is refused.
 */
export const OPTION_ALIASES = {
  /** `spawn()`'s options. */
  actor: { supervision: "onCrash", backoff: "restartBackoff" },
  /** Every `Backoff` (retries, `restartBackoff`). */
  backoff: { min: "initial", randomFactor: "jitter" },
  /** `DistributedExecutorOptions`. */
  distributed: { workers: "maxWorkers", maxAttempts: "poisonAfter" },
} as const;

/**
 * Returns a copy of `options` with each old key of `aliases` renamed to its new key. Giving both
 * the old and the new name is a TypeError. `at.path` is the prefix of the keys ("" at the top).
 */
export function checkAliases<T extends Record<string, unknown>>(
  at: OptionPath,
  options: T,
  aliases: Readonly<Record<string, string>>,
): T {
  let copy: Record<string, unknown> | undefined;
  for (const [old, now] of Object.entries(aliases)) {
    if (options[old] === undefined) continue;
    const prefix = at.path === "" ? "" : `${at.path}.`;
    if (options[now] !== undefined) {
      throw new TypeError(
        `Cannot ${at.action} as '${prefix}${old}' and '${prefix}${now}' are the same option: give one ('${prefix}${old}' is deprecated)`,
      );
    }
    copy ??= { ...options };
    copy[now] = copy[old];
    delete copy[old];
  }
  return (copy ?? options) as T;
}

/**
 * Checks an optional options argument: `undefined`, or an object with only `known` keys. A
 * value of another type is refused with a TypeError that suggests `{ [positional]: value }`,
 * the call written as in Python (`result(50)` → `{ timeout: 50 }`).
 *
 * @returns the options, `undefined` when not given
 */
export function checkOptionsArgument<T extends object>(
  what: string,
  options: T | undefined,
  known: readonly string[],
  positional: string,
): T | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    const hint = positionalHint(positional, options);
    throw new TypeError(
      `Cannot ${what} as 'options' must be an object: received ${show(options)}${hint}`,
    );
  }
  checkKnownKeys(what, options, known);
  return options;
}

/**
 * What to write instead of a value passed where Python takes it positionally: a number or a flag
 * goes in the options object, except that Python's `blocking=False` (`acquire(False)`) is
 * `{ timeout: 0 }` here. Anything else gets no guess.
 */
function positionalHint(positional: string, value: unknown): string {
  if (positional === "timeout" && value === false) return " (did you mean { timeout: 0 }?)";
  if (typeof value === "number" || (typeof value === "boolean" && positional !== "timeout")) {
    return ` (did you mean { ${positional}: ${show(value)} }?)`;
  }
  return "";
}

/** Python's names whose counterpart here is spelt too differently for `closest()` to find. */
const PYTHON_NAMES: Readonly<Record<string, string>> = {
  max_tasks_per_child: "maxTasksPerWorker",
  maxTasksPerChild: "maxTasksPerWorker",
  thread_name_prefix: "name",
  cancel_futures: "cancelFutures",
  return_when: "returnWhen",
};

function closest(key: string, known: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(plain(key), plain(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance; option names are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        next[j - 1]! + 1,
        row[j]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

/**
 * Validates a `timeout` option: a non-negative number (or `Infinity`), or `undefined`.
 *
 * @param what what the caller was trying to do, for the message ("wait", "submit task")
 * @param name the option's name as the user wrote it
 * @param value the value given
 * @returns the timeout in milliseconds, `Infinity` when not given
 * @throws {RangeError} when the value is a negative number or NaN
 * @throws {TypeError} when the value is not a number
 */
export function checkTimeout(what: string, name: string, value: unknown): number {
  if (value === undefined) return Infinity;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    refuse({ action: what, path: name }, "a non-negative number of milliseconds", value);
  }
  return value;
}

/** Throws a RangeError unless `value` is a number ≥ 0, `Infinity` allowed (or `undefined`). */
export function checkMillis(what: string, name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkTimeout(what, name, value);
}

/**
 * Throws unless `value` is an integer ≥ 1 (or `undefined`): a TypeError for a value that is not
 * a number, a RangeError for a number out of range.
 */
export function checkPositiveInt(what: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    refuse({ action: what, path: name }, "a positive integer", value);
  }
  return value;
}

/** Throws unless `value` is an integer from `min` to `max`. */
export function checkInt(
  what: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) {
    return value as number;
  }
  refuse({ action: what, path: name }, `an integer from ${min} to ${max}`, value);
}

/** Throws a TypeError unless `value` is an AbortSignal (or `undefined`). */
export function checkSignal(what: string, name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  refuse({ action: what, path: name }, "an AbortSignal", value, false);
}

/** Throws a TypeError unless `value` is one of `choices` (or `undefined`). */
export function checkOneOf<T extends string>(
  what: string,
  name: string,
  value: unknown,
  choices: readonly T[],
): T | undefined {
  if (value === undefined || choices.includes(value as T)) return value as T | undefined;
  const rule = choices.length === 2
    ? `"${choices[0]}" or "${choices[1]}"`
    : `one of ${choices.map((c) => `"${c}"`).join(", ")}`;
  refuse({ action: what, path: name }, rule, value, false);
}

/**
 * The futures of `wait()` or `asCompleted()` as a set, checked: an iterable (not a string) whose
 * items are all futures. A promise among them is named with its position.
 */
export function futureSet<F>(
  what: string,
  futures: unknown,
  isFuture: (value: unknown) => value is F,
): Set<F> {
  if (
    futures === null || typeof futures !== "object" ||
    typeof (futures as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    refuse({ action: what, path: "futures" }, "an iterable of futures", futures, false);
  }
  const set = new Set<F>();
  let index = 0;
  for (const item of futures as Iterable<unknown>) {
    if (!isFuture(item)) {
      const kind = item instanceof Promise ? "a Promise" : show(item);
      throw new TypeError(
        `Cannot ${what} as 'futures' must hold only futures: item ${index} is ${kind}${
          item instanceof Promise ? " (submit the work to an executor to get a future)" : ""
        }`,
      );
    }
    set.add(item);
    index++;
  }
  return set;
}
