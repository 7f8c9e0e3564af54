/**
 * The worker process of {@linkcode DistributedExecutor}: run it on each machine that should run
 * tasks.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-run --allow-env --allow-sys=hostname \
 *   jsr:@concurrent/futures/worker --nats nats://nats-host:4222 --queue default \
 *   --modules file:///app/tasks.ts --concurrency 8 --isolation process
 * ```
 *
 * Flags: `--nats URL` (repeatable; default `nats://127.0.0.1:4222`), `--queue NAME` (default
 * `default`), `--modules URL` (repeatable), `--concurrency N` (default: the number of CPUs),
 * `--isolation process|worker` (default `process`), `--allow-source` (run functions sent by source:
 * this is remote code execution, off by default), `--name NAME`, `--quiet` (no start and stop
 * lines). The JetStream settings `--ack-wait MS`, `--replicas N`, `--storage file|memory`,
 * `--result-ttl MS`, `--max-in-flight N`, `--max-deliveries N` and `--stream-max-messages N` are
 * those of the executor's options of the same names: they create the queue's stream, consumer
 * and stores when missing, and when these exist a flag that differs from them stops the worker
 * with an error naming the setting, the value in place and the one asked for. SIGTERM or SIGINT drains it: it stops pulling, finishes
 * the running tasks and exits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkerArgs } from "@concurrent/futures/worker";
 *
 * const options = parseWorkerArgs(["--queue", "images", "--concurrency", "2"]);
 * assert.equal(options.queue, "images");
 * assert.equal(options.concurrency, 2);
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DistributedWorker, type WorkerRunOptions } from "./_worker_runtime.ts";
import { moduleUrl } from "../actors/_module_url.ts";
import { LAYOUT_FLAGS, layoutFlags } from "./_settings.ts";

export { DistributedWorker, type WorkerRunOptions };

/**
 * Reads the worker's command-line flags.
 *
 * @param args the flags, such as `Deno.args`
 * @returns the options {@linkcode DistributedWorker.start} takes
 * @throws {RangeError} or {TypeError} for a flag with a bad value, naming it and the value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkerArgs } from "@concurrent/futures/worker";
 *
 * assert.equal(parseWorkerArgs(["--isolation", "worker"]).isolation, "worker");
 * ```
 */
export function parseWorkerArgs(args: string[]): WorkerRunOptions {
  const { values } = parseArgs({
    args,
    options: {
      nats: { type: "string", multiple: true },
      queue: { type: "string", default: "default" },
      modules: { type: "string", multiple: true },
      concurrency: { type: "string" },
      isolation: { type: "string", default: "process" },
      "allow-source": { type: "boolean", default: false },
      name: { type: "string" },
      "ack-wait": { type: "string" },
      ...LAYOUT_FLAGS,
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  const what = "start the worker";
  const concurrency = values.concurrency === undefined
    ? navigator.hardwareConcurrency
    : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `Cannot ${what} as '--concurrency' must be a positive integer: received ${values.concurrency}`,
    );
  }
  if (values.isolation !== "process" && values.isolation !== "worker") {
    throw new TypeError(
      `Cannot ${what} as '--isolation' must be "process" or "worker": received ${values.isolation}`,
    );
  }
  if (!/^[A-Za-z0-9_-]+$/.test(values.queue)) {
    throw new TypeError(
      `Cannot ${what} as '--queue' must be letters, digits, '_' or '-': received ${values.queue}`,
    );
  }
  const options: WorkerRunOptions = {
    servers: values.nats ?? ["nats://127.0.0.1:4222"],
    queue: values.queue,
    modules: (values.modules ?? []).map((m) => moduleUrl(m, what, "--modules")),
    concurrency,
    isolation: values.isolation,
    allowSource: values["allow-source"],
    name: values.name ?? `${Deno.hostname()}:${Deno.pid}`,
    quiet: values.quiet,
    ...layoutFlags(values, what),
  };
  if (values["ack-wait"] !== undefined) {
    const ackWait = Number(values["ack-wait"]);
    if (!Number.isInteger(ackWait) || ackWait < 1) {
      throw new RangeError(
        `Cannot ${what} as '--ack-wait' must be a positive integer: received ${values["ack-wait"]}`,
      );
    }
    options.ackWait = ackWait;
  }
  return options;
}

if (import.meta.main) {
  const options = parseWorkerArgs(Deno.args);
  if (!options.quiet) options.log = (line) => console.error(line);
  const worker = await DistributedWorker.start(options);
  const drain = () => {
    worker.stop().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGTERM", drain);
  Deno.addSignalListener("SIGINT", drain);
}
