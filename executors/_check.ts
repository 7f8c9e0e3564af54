// The shape of every argument error: what could not be done, which option, what it must be, and
// what was received. The message is built by the validation module, future/_options.ts.

import { refuse, show } from "../future/_options.ts";

export { show };

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
  if (!ok) refuse({ action: what, path: name }, rule, value, range);
}
