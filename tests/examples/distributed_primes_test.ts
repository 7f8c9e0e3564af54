import { commandLineTests } from "./_run.ts";

// Its run on an embedded server is in tests/distributed/, with the other tests that need
// nats-server.
commandLineTests("distributed_primes.ts", {
  args: ["--workers", "0"],
  message: /--workers must be a positive integer: received "0"/,
});
