// Text for any thrown value, for messages and logs. A task may throw anything: an object with no
// prototype, one whose toString() or message getter throws, a revoked proxy. Building the text of
// such a value must not throw in its turn: inside an executor's bookkeeping it would escape as an
// uncaught error and end the program.

/**
 * The value as text: `String(value)`, else its `Object.prototype.toString` tag, else
 * `[unreadable value]`. Never throws.
 */
export function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "[unreadable value]";
    }
  }
}

/** An error's message (its text for a value that is not an Error). Never throws. */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return textOf(error.message);
  } catch {
    // A proxy whose prototype cannot be read, a message getter that throws.
  }
  return textOf(error);
}

/** `Name: message` for an Error, the text of anything else. Never throws. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return `${textOf(error.name)}: ${textOf(error.message)}`;
  } catch {
    // As in messageOf().
  }
  return textOf(error);
}
