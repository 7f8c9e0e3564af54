/**
 * The command-line helpers every example shares: flags parsed with `node:util`'s `parseArgs`
 * (`--help` prints the usage; a bad flag or value prints one line and exits with code 2), a
 * progress bar on stderr, and a plain-text table.
 *
 * npm's cli-progress and cli-table3 were tried first. cli-progress took 45–55 ms to load here;
 * cli-table3 took 35–50 ms, reads the `CI` environment variable through its colour library (so a
 * run without `--allow-env` stops at a permission prompt on a terminal) and colours its header and
 * borders even when stdout is a file. What the examples need fits in this file and loads in under
 * a millisecond.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** A flag that takes an integer. */
export interface IntegerFlag {
  type: "integer";
  default: number;
  /** The smallest value accepted. */
  min?: number;
  /** The largest value accepted. */
  max?: number;
  /** The value's name in the usage, e.g. `N`. */
  arg?: string;
  help: string;
}

/** A flag that takes a number. */
export interface NumberFlag {
  type: "number";
  default: number;
  min?: number;
  max?: number;
  arg?: string;
  help: string;
}

/** A flag that takes a comma-separated list of integers, e.g. `--delays 300,80,150`. */
export interface IntegerListFlag {
  type: "integers";
  default: readonly number[];
  min?: number;
  arg?: string;
  help: string;
}

/** A flag that takes text (or one of `choices`). */
export interface StringFlag {
  type: "string";
  default: string;
  choices?: readonly string[];
  arg?: string;
  help: string;
}

/** A flag that is on or off. */
export interface BooleanFlag {
  type: "boolean";
  help: string;
}

/** Any flag. */
export type Flag = IntegerFlag | NumberFlag | IntegerListFlag | StringFlag | BooleanFlag;

/** The values of a set of flags, typed after their declarations. */
export type FlagValues<F extends Record<string, Flag>> = {
  [K in keyof F]: F[K] extends BooleanFlag ? boolean
    : F[K] extends StringFlag ? string
    : F[K] extends IntegerListFlag ? number[]
    : number;
};

/** What an example's command line looks like. */
export interface Command<F extends Record<string, Flag>> {
  /** The file name, e.g. `primes.ts`: the usage says `deno run -A examples/primes.ts`. */
  name: string;
  /** What the example does, a few lines. */
  summary: string;
  flags: F;
}

/** A command line that cannot be run: its message is one line, shown with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The text `--help` prints. */
export function usage<F extends Record<string, Flag>>(command: Command<F>): string {
  const lines = Object.entries(command.flags).map(([name, flag]) => {
    const left = flag.type === "boolean" ? `--${name}` : `--${name} ${flag.arg ?? "N"}`;
    // A flag whose default is empty ("", []) means "not given": there is no default to show.
    const shown = flag.type === "boolean"
      ? ""
      : Array.isArray(flag.default)
      ? flag.default.join(",")
      : String(flag.default);
    const fallback = shown === "" ? "" : ` (default ${shown})`;
    return `  ${left.padEnd(20)} ${flag.help}${fallback}`;
  });
  lines.push(`  ${"-h, --help".padEnd(20)} show this help`);
  return [
    "Usage:",
    `deno run -A examples/${command.name} [options]`,
    "",
    command.summary,
    "",
    "Options:",
    ...lines,
  ].join("\n");
}

/** Throws when `text` is not a valid value of `flag`; returns the value. */
function convert(name: string, flag: Exclude<Flag, BooleanFlag>, text: string) {
  const bad = (what: string) =>
    new UsageError(`--${name} must be ${what}: received ${JSON.stringify(text)}`);
  if (flag.type === "string") {
    if (flag.choices && !flag.choices.includes(text)) {
      throw bad(`one of ${flag.choices.join(", ")}`);
    }
    return text;
  }
  const integer = flag.type !== "number";
  const min = flag.min ?? -Infinity;
  const max = flag.type === "integers" ? Infinity : flag.max ?? Infinity;
  const kind = integer ? "an integer" : "a number";
  const what = max < Infinity
    ? `${kind} between ${min} and ${max}`
    : integer && min === 1
    ? "a positive integer"
    : min > -Infinity
    ? `${kind} >= ${min}`
    : kind;
  const parse = (part: string) => {
    const value = part.trim() === "" ? NaN : Number(part);
    const valid = integer ? Number.isInteger(value) : Number.isFinite(value);
    if (!valid || value < min || value > max) throw bad(what);
    return value;
  };
  if (flag.type === "integers") {
    const each = what.replace(/^an? /, "").replace(/^(positive )?integer/, "$1integers");
    const parts = text.split(",");
    try {
      return parts.map(parse);
    } catch {
      throw bad(`a comma-separated list of ${each}`);
    }
  }
  return parse(text);
}

/**
 * Parses `args` against `command.flags`. Returns `undefined` when `--help` (or `-h`) was given.
 * A value that looks like a negative number is taken as a value (`--n -3`), so that it is refused
 * for what it is rather than as a missing value.
 *
 * @throws {UsageError} for an unknown flag, a missing or bad value, or a positional argument
 */
export function parseFlags<F extends Record<string, Flag>>(
  command: Command<F>,
  args: readonly string[],
): FlagValues<F> | undefined {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const flag = arg.startsWith("--") ? command.flags[arg.slice(2)] : undefined;
    if (flag && flag.type !== "boolean" && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, flag] of Object.entries(command.flags)) {
    options[name] = { type: flag.type === "boolean" ? "boolean" : "string" };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: joined, options, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs explains itself over several lines; its first sentence is the one that matters.
    const message = error instanceof Error ? error.message : String(error);
    const first = message.split(/\.\s|\n/)[0]!.replace(/\.$/, "");
    throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1));
  }
  if (values.help) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(command.flags)) {
    const given = values[name];
    if (flag.type === "boolean") out[name] = given === true;
    else out[name] = typeof given === "string" ? convert(name, flag, given) : flag.default;
  }
  return out as FlagValues<F>;
}

/**
 * What an example's `main` calls first: the parsed flags, or, for `--help`, the usage on stdout
 * and exit code 0, or, for a bad command line, one line on stderr and exit code 2.
 */
export function commandLine<F extends Record<string, Flag>>(
  command: Command<F>,
  args: readonly string[] = Deno.args,
): FlagValues<F> {
  let values: FlagValues<F> | undefined;
  try {
    values = parseFlags(command, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${command.name}: ${error.message} (see --help)`);
    Deno.exit(2);
  }
  if (values === undefined) {
    console.log(usage(command));
    Deno.exit(0);
  }
  return values;
}

/**
 * For a value that passed `commandLine()` but cannot be used (a missing file): prints one line
 * on stderr and exits with code 2, as for any other bad command line.
 */
export function refuse(command: { name: string }, message: string): never {
  console.error(`${command.name}: ${message}`);
  Deno.exit(2);
}

const encoder = new TextEncoder();

/**
 * A progress bar on stderr. On a terminal it is redrawn in place; otherwise (a pipe, a log file,
 * a test) only its final state is written, once, so logs do not fill with redraws.
 */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #live: boolean;
  readonly #write: (text: string) => void;
  readonly #started = performance.now();
  #done = 0;
  #drawn = 0;
  #ended = false;

  /**
   * @param options `live`: redraw in place (default: whether stderr is a terminal); `write`:
   * where the bar goes (default: stderr)
   */
  constructor(
    label: string,
    total: number,
    options: { live?: boolean; write?: (text: string) => void } = {},
  ) {
    this.#label = label;
    this.#total = total;
    this.#live = options.live ?? Deno.stderr.isTerminal();
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#draw();
  }

  /** How many steps are done. */
  get done(): number {
    return this.#done;
  }

  /** Records `steps` more steps done; the last one writes the final line. */
  tick(steps = 1): void {
    if (this.#ended) return;
    this.#done = Math.min(this.#total, this.#done + steps);
    if (this.#done === this.#total) this.end();
    // Redrawing costs a write: at most every 50 ms.
    else if (performance.now() - this.#drawn > 50) this.#draw();
  }

  /**
   * Writes the final line as it stands, for work that stopped before all its steps were done
   * (the bar then shows how far it got). Later calls and ticks do nothing.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#write(`${this.#live ? "\r\x1b[2K" : ""}${this.line()}\n`);
  }

  /**
   * Prints a line on stdout above the bar (the bar is redrawn below it on a terminal).
   */
  log(line: string): void {
    if (this.#live) this.#write("\r\x1b[2K");
    console.log(line);
    if (this.#live && !this.#ended) this.#draw();
  }

  /** The line as it looks now. */
  line(): string {
    const width = 24;
    const filled = this.#total === 0 ? width : Math.round((this.#done / this.#total) * width);
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    return `${this.#label} [${"#".repeat(filled)}${
      ".".repeat(width - filled)
    }] ${this.#done}/${this.#total} ${seconds} s`;
  }

  #draw(): void {
    if (!this.#live) return;
    this.#drawn = performance.now();
    this.#write(`\r\x1b[2K${this.line()}`);
  }
}

/** A table cell: numbers are right-aligned, as is any column whose cells all look numeric. */
export type Cell = string | number;

const NUMERIC = /^[-+]?[\d,.]+\s?(x|%|ms|s|µs|MiB|MB\/s|KiB)?$/;

/**
 * Lays out `rows` under `header` in columns two spaces apart; numeric columns are right-aligned.
 */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => row.map(String));
  const right = header.map((_, c) =>
    rows.length > 0 &&
    rows.every((row) => typeof row[c] === "number" || NUMERIC.test(String(row[c] ?? "")))
  );
  const widths = header.map((h, c) =>
    Math.max(h.length, ...text.map((row) => (row[c] ?? "").length))
  );
  const format = (cells: readonly string[]) =>
    cells.map((cell, c) => right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))
      .join("  ").trimEnd();
  return [format(header), ...text.map(format)].join("\n");
}

/** Milliseconds as seconds with two decimals, e.g. `1.23`. */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/** A whole number with thousands separators, e.g. `12,345`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en");
}

/**
 * A temporary directory that is removed when the program ends, also by Ctrl-C or `kill`
 * (SIGINT, SIGTERM), which skip `finally` blocks. Remove it yourself at the normal end, then call
 * the returned function to stop listening.
 */
export async function tempDir(prefix: string): Promise<{ path: string; release(): void }> {
  const path = await Deno.makeTempDir({ prefix });
  const signals = Deno.build.os === "windows"
    ? (["SIGINT"] as const)
    : (["SIGINT", "SIGTERM"] as const);
  const onSignal = () => {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Gone already.
    }
    Deno.exit(130);
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  return {
    path,
    release() {
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    },
  };
}
