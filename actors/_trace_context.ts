// Runs a task in the W3C trace context it came with, so that spans the task code starts (with
// `@opentelemetry/api`, imported by the task module) join the submitter's trace. Nothing is
// imported here: Deno with OpenTelemetry on (OTEL_DENO=true) registers its context manager and
// W3C propagator as the global OpenTelemetry API, in every worker, and that is what is used.
// Without it (or another registered API), the task simply runs.

interface GlobalApi {
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  propagation: {
    extract(context: unknown, carrier: Record<string, string>, getter: typeof GETTER): unknown;
  };
}

// Where @opentelemetry/api 1.x keeps its registered implementations.
const API = Symbol.for("opentelemetry.js.api.1");
const GETTER = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

/** Calls `fn` with `traceparent` as the active trace context, when OpenTelemetry is on. */
export function inTraceContext(traceparent: string, fn: () => void): void {
  const api = (globalThis as { [API]?: GlobalApi })[API];
  if (!api?.propagation || !api.context) return fn();
  api.context.with(api.propagation.extract(api.context.active(), { traceparent }, GETTER), fn);
}
