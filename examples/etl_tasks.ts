/**
 * The task module of `examples/etl_pipeline.ts`: the input it generates, and the transform step,
 * run in workers by reference.
 *
 * @module
 */

/** The regions the generated sales come from. */
export const REGIONS = ["north", "south", "east", "west", "centre"] as const;

/**
 * The CSV text of input file `file`: a header, then `rows` sales (`id,region,quantity,price`),
 * the same every run (a linear congruential generator seeded by `file`).
 */
export function generateCsv(file: number, rows: number): string {
  let seed = (file + 1) * 7919;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const lines = ["id,region,quantity,price"];
  for (let i = 0; i < rows; i++) {
    const price = (100 + next(9_900)) / 100;
    lines.push(`${file}-${i},${REGIONS[next(REGIONS.length)]},${1 + next(20)},${price.toFixed(2)}`);
  }
  return lines.join("\n") + "\n";
}

/** One region's totals in a file. */
export interface RegionTotals {
  region: string;
  sales: number;
  quantity: number;
  /** The sum of quantity × price, in cents (whole numbers add up exactly). */
  revenueCents: number;
  /** The largest single sale, in cents. */
  largestCents: number;
}

/** What `summarize()` returns: the totals by region, and how long the work took in the worker. */
export interface Summary {
  regions: RegionTotals[];
  ms: number;
}

/**
 * The transform step: parses the CSV text of a sales file and totals it by region, in name order.
 *
 * @throws {SyntaxError} for a line that does not have four fields or whose numbers are not numbers
 */
export function summarize(csv: string): Summary {
  const started = performance.now();
  const totals = new Map<string, RegionTotals>();
  const lines = csv.split("\n");
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line === "") continue;
    const [, region, quantityText, priceText, extra] = line.split(",");
    const quantity = Number(quantityText);
    const priceCents = Math.round(Number(priceText) * 100);
    if (
      region === undefined || extra !== undefined || !Number.isInteger(quantity) ||
      !Number.isFinite(priceCents)
    ) {
      throw new SyntaxError(`line ${n + 1}: not id,region,quantity,price: ${line}`);
    }
    let entry = totals.get(region);
    if (!entry) {
      entry = { region, sales: 0, quantity: 0, revenueCents: 0, largestCents: 0 };
      totals.set(region, entry);
    }
    entry.sales++;
    entry.quantity += quantity;
    entry.revenueCents += quantity * priceCents;
    entry.largestCents = Math.max(entry.largestCents, quantity * priceCents);
  }
  const regions = [...totals.values()].sort((a, b) => a.region < b.region ? -1 : 1);
  return { regions, ms: performance.now() - started };
}

/** The output file's text: one CSV line per region, amounts in currency units. */
export function formatSummary(summary: Summary): string {
  const money = (cents: number) => (cents / 100).toFixed(2);
  const lines = summary.regions.map((r) =>
    `${r.region},${r.sales},${r.quantity},${money(r.revenueCents)},${money(r.largestCents)}`
  );
  return ["region,sales,quantity,revenue,largest_sale", ...lines].join("\n") + "\n";
}
