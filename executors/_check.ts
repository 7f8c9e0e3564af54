// The shape of every argument error: what could not be done, which option, what it must be, and
// what was received.

/** A value as an error message shows it. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return String(value);
}

/**
 * Throws unless `ok`: `Cannot WHAT as 'NAME' must be RULE: received VALUE`, a RangeError for a
 * number out of range and a TypeError otherwise.
 */
export function check(
  ok: boolean,
  what: string,
  name: string,
  rule: string,
  value: unknown,
  range = typeof value === "number",
): void {
  if (ok) return;
  const message = `Cannot ${what} as '${name}' must be ${rule}: received ${show(value)}`;
  throw range ? new RangeError(message) : new TypeError(message);
}
