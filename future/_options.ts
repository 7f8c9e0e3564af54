// Checks of the options objects users pass, shared by every layer: a value shown as messages show
// it, unknown keys with the closest known name, and a positional value where an options object
// belongs (Python's `result(50)`, `shutdown(False)`).

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
): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    throw new TypeError(
      `Cannot ${what} as '${key}' is not ${kind}${near ? ` (did you mean '${near}'?)` : ""}`,
    );
  }
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
    const hint = options === null || typeof options === "object"
      ? ""
      : ` (did you mean { ${positional}: ${show(options)} }?)`;
    throw new TypeError(
      `Cannot ${what} as 'options' must be an object: received ${show(options)}${hint}`,
    );
  }
  checkKnownKeys(what, options, known);
  return options;
}

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
