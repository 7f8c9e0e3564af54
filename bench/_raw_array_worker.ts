// The worker of the array-message floor: one `[id, x]` array per task in, one `[id, x + 1]`
// array per result out, nothing else.

import { inc } from "./_worker_tasks.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<[number, number]>) => void) | null;
  postMessage(message: [number, number]): void;
};

scope.onmessage = (event) => {
  const [id, x] = event.data;
  scope.postMessage([id, inc(x)]);
};
