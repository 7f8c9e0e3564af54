// The entry point of a pool worker thread: the actor runtime over a Web Worker's messages. A
// Web Worker has no exit event, so self.close() is announced before it takes effect.

import type { HostMessage, WorkerMessage } from "./_protocol.ts";
import { startActor } from "./_actor_runtime.ts";

interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: MessageEvent<HostMessage>) => void) | null;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
const realClose = scope.close.bind(scope);
const actor = startActor({
  post: (message) => scope.postMessage(message),
  end: () => realClose(),
});
scope.close = () => {
  actor.announceExit("close", 0);
  realClose();
};
scope.onmessage = (event) => actor.receive(event.data);
