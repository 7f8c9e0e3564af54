// A strict parser of the Prometheus text exposition format 0.0.4, for the tests: it throws on
// anything the format does not allow (a sample before its TYPE, a bad name or label, a histogram
// whose buckets are not cumulative or lack +Inf, a count that disagrees with +Inf).

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: its TYPE, HELP and samples. */
export interface Family {
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new SyntaxError("the text must end with a line feed");
  const families = new Map<string, Family>();
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!name || !NAME.test(name)) throw new SyntaxError(`bad metric name, ${where}`);
      const family = families.get(name) ??
        { type: "untyped" as Family["type"], help: "", samples: [] };
      if (family.samples.length > 0) throw new SyntaxError(`${kind} after samples, ${where}`);
      if (kind === "TYPE") {
        const type = rest.join(" ");
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) {
          throw new SyntaxError(`bad type, ${where}`);
        }
        family.type = type as Family["type"];
      } else family.help = rest.join(" ");
      families.set(name, family);
      return;
    }
    if (line.startsWith("#") || line === "") throw new SyntaxError(`unexpected ${where}`);
    const sample = parseSample(line, where);
    const family = families.get(sample.name) ??
      families.get(sample.name.replace(/_(bucket|sum|count)$/, ""));
    if (!family) throw new SyntaxError(`sample without TYPE, ${where}`);
    if (family.type === "counter" && (sample.value < 0 || !sample.name.endsWith("_total"))) {
      throw new SyntaxError(`bad counter, ${where}`);
    }
    family.samples.push(sample);
  });
  for (const [name, family] of families) {
    if (family.type === "histogram") checkHistogram(name, family);
  }
  return families;
}

function parseSample(line: string, where: string): Sample {
  const match = /^([^{ ]+)(\{(.*)\})? (\S+)$/.exec(line);
  if (!match) throw new SyntaxError(`bad sample, ${where}`);
  const [, name, , body, raw] = match;
  if (!NAME.test(name!)) throw new SyntaxError(`bad metric name, ${where}`);
  const labels: Record<string, string> = {};
  let rest = body ?? "";
  while (rest.length > 0) {
    const m = /^([^=]+)="((?:[^"\\]|\\[\\"n])*)"(,|$)/.exec(rest);
    if (!m || !LABEL.test(m[1]!)) throw new SyntaxError(`bad label, ${where}`);
    if (m[1]! in labels) throw new SyntaxError(`duplicate label, ${where}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
    rest = rest.slice(m[0].length);
  }
  const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
  if (raw !== "NaN" && Number.isNaN(value)) throw new SyntaxError(`bad value, ${where}`);
  return { name: name!, labels, value };
}

function checkHistogram(name: string, family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    const count = samples.find((s) => s.name === `${name}_count`);
    if (!samples.some((s) => s.name === `${name}_sum`) || !count) {
      throw new SyntaxError(`${name}${key} lacks _sum or _count`);
    }
    let last = -Infinity, previous = 0;
    for (const b of buckets) {
      const le = b.labels.le === "+Inf" ? Infinity : Number(b.labels.le);
      if (!(le > last) || b.value < previous) {
        throw new SyntaxError(`${name}${key}: buckets not increasing or not cumulative`);
      }
      last = le;
      previous = b.value;
    }
    if (last !== Infinity) throw new SyntaxError(`${name}${key} lacks the +Inf bucket`);
    if (previous !== count.value) throw new SyntaxError(`${name}${key}: _count is not +Inf`);
  }
}

/** The value of the sample `name` with exactly these labels (or undefined). */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ""));
  const want = JSON.stringify(Object.entries(labels).sort());
  return family?.samples.find((s) =>
    s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want
  )?.value;
}
