// The BullMQ peer's worker process (bench/bullmq/peer.ts): one Worker at concurrency 8
// running the same tiny task, until it is killed.

import { Worker } from "bullmq";
import { Redis } from "ioredis";

const [port, queue] = Deno.args as [string, string];
const worker = new Worker(
  queue,
  (job: { data: { a: number; b: number } }) => Promise.resolve(job.data.a + job.data.b),
  {
    connection: new Redis({ host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null }),
    concurrency: 8,
  },
);
await worker.waitUntilReady();
console.log("ready");
