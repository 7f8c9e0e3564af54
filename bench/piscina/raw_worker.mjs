// Node's own transport floor: one worker_threads message per task in, one per result out.
import { parentPort } from "node:worker_threads";

parentPort.on("message", ({ id, args }) => {
  parentPort.postMessage({ id, value: args[0] + args[1] });
});
