import assert from "node:assert/strict";
import {
  decodeError,
  encodeError,
  registerErrorClass,
  type WireError,
} from "../../actors/error_codec.ts";
import {
  BrokenExecutorError,
  CancelledError,
  CircuitOpenError,
  InvalidStateError,
  TimeoutError,
  WorkerCrashedError,
} from "../../future/errors.ts";

const json = (wire: WireError): WireError => JSON.parse(JSON.stringify(wire));
const transports = {
  structuredClone: (wire: WireError): WireError => structuredClone(wire),
  JSON: json,
};

/** Encodes, sends over each transport, decodes, and checks the result with `check`. */
function roundTrip(thrown: unknown, check: (decoded: unknown) => void): void {
  for (const [via, send] of Object.entries(transports)) {
    try {
      check(decodeError(send(encodeError(thrown))));
    } catch (error) {
      throw new Error(`round trip via ${via} failed`, { cause: error });
    }
  }
}

/** Fails unless `value` is made only of JSON-safe data (plus `undefined`). */
function assertPlainData(value: unknown, at = "wire"): void {
  if (value === null || value === undefined) return;
  if (["string", "boolean"].includes(typeof value)) return;
  if (typeof value === "number") {
    return assert.ok(Number.isFinite(value), `${at} is not finite`);
  }
  assert.equal(typeof value, "object", `${at} is a ${typeof value}`);
  const proto = Object.getPrototypeOf(value);
  assert.ok(
    proto === Object.prototype || proto === Array.prototype,
    `${at} is not a plain object or array`,
  );
  for (const [key, item] of Object.entries(value as object)) {
    assertPlainData(item, `${at}.${key}`);
  }
}

const builtins = [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  URIError,
  EvalError,
];

for (const Class of builtins) {
  const article = /^[AEIO]/.test(Class.name) ? "an" : "a";
  Deno.test(`decodeError() keeps ${article} ${Class.name}'s class`, () => {
    const original = new Class("bad input");
    roundTrip(original, (decoded) => {
      assert.ok(decoded instanceof Class);
      assert.equal(Object.getPrototypeOf(decoded), Class.prototype);
      assert.equal(decoded.name, Class.name);
      assert.equal(decoded.message, "bad input");
      assert.equal(decoded.stack, original.stack);
    });
  });
}

Deno.test("decodeError() keeps the remote stack, not a local one", () => {
  const wire = encodeError(new Error("remote"));
  assert.equal(wire.kind, "error");
  const sent = { ...wire, stack: "Error: remote\n    at far (remote.ts:1:1)" };
  const decoded = decodeError(sent) as Error;
  assert.equal(decoded.stack, sent.stack);
  assert.equal(
    Object.getOwnPropertyDescriptor(decoded, "stack")?.enumerable,
    false,
  );
});

Deno.test("decodeError() gives a stack header when none was sent", () => {
  const decoded = decodeError({
    kind: "error",
    className: "TypeError",
    name: "TypeError",
    message: "no stack",
  }) as Error;
  assert.equal(decoded.stack, "TypeError: no stack");
});

Deno.test("decodeError() keeps an AggregateError's nested errors", () => {
  const inner = new AggregateError([new URIError("deep")], "inner");
  const original = new AggregateError(
    [new TypeError("first"), inner, "a string"],
    "several failed",
  );
  roundTrip(original, (decoded) => {
    assert.ok(decoded instanceof AggregateError);
    assert.equal(decoded.message, "several failed");
    assert.equal(decoded.errors.length, 3);
    const [first, nested, value] = decoded.errors;
    assert.ok(first instanceof TypeError);
    assert.equal(first.message, "first");
    assert.ok(nested instanceof AggregateError);
    assert.ok(nested.errors[0] instanceof URIError);
    assert.equal(nested.errors[0].message, "deep");
    assert.equal(value, "a string");
    assert.equal(Object.keys(decoded).includes("errors"), false);
  });
});

Deno.test("decodeError() keeps a DOMException's name", () => {
  for (const name of ["DataCloneError", "AbortError", "NotFoundError"]) {
    const original = new DOMException(`it was a ${name}`, name);
    roundTrip(original, (decoded) => {
      assert.ok(decoded instanceof DOMException);
      assert.equal(decoded.name, name);
      assert.equal(decoded.message, `it was a ${name}`);
      assert.equal(decoded.code, original.code);
      assert.equal(decoded.stack, original.stack);
    });
  }
});

Deno.test("decodeError() restores a cause chain recursively", () => {
  const root = new RangeError("root", { cause: "a plain reason" });
  const original = new Error("top", {
    cause: new TypeError("mid", { cause: root }),
  });
  roundTrip(original, (decoded) => {
    assert.ok(decoded instanceof Error);
    const mid = decoded.cause;
    assert.ok(mid instanceof TypeError);
    assert.equal(mid.message, "mid");
    assert.ok(mid.cause instanceof RangeError);
    assert.equal(mid.cause.stack, root.stack);
    assert.equal(mid.cause.cause, "a plain reason");
    assert.equal(
      Object.getOwnPropertyDescriptor(decoded, "cause")?.enumerable,
      false,
    );
  });
});

Deno.test("decodeError() keeps a cause that is undefined or a plain object", () => {
  roundTrip(new Error("x", { cause: { retry: false } }), (decoded) => {
    assert.deepEqual((decoded as Error).cause, { retry: false });
  });
  const decoded = decodeError(
    encodeError(new Error("x", { cause: undefined })),
  );
  assert.ok(Object.hasOwn(decoded as Error, "cause"));
  assert.equal((decoded as Error).cause, undefined);
  const none = decodeError(encodeError(new Error("x"))) as Error;
  assert.equal(Object.hasOwn(none, "cause"), false);
});

Deno.test("encodeError() stops at a cyclic cause", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  a.cause = b;
  const self = new Error("self");
  self.cause = self;
  roundTrip(a, (decoded) => {
    const cause = (decoded as Error).cause as Error;
    assert.equal(cause.message, "b");
    assert.equal(Object.hasOwn(cause, "cause"), false);
  });
  roundTrip(self, (decoded) => {
    assert.equal(Object.hasOwn(decoded as Error, "cause"), false);
  });
});

Deno.test("encodeError() stops a cause chain after 16 levels", () => {
  let error = new Error("level 0");
  for (let level = 1; level <= 40; level++) {
    error = new Error(`level ${level}`, { cause: error });
  }
  let decoded = decodeError(json(encodeError(error))) as Error;
  let depth = 0;
  while (decoded.cause instanceof Error) {
    decoded = decoded.cause;
    depth++;
  }
  assert.equal(depth, 16);
});

Deno.test("encodeError() leaves out an AggregateError's cyclic entries", () => {
  const error = new AggregateError([new Error("ok")], "loop");
  error.errors.push(error);
  roundTrip(error, (decoded) => {
    assert.ok(decoded instanceof AggregateError);
    assert.equal(decoded.errors.length, 1);
  });
});

Deno.test("decodeError() restores own enumerable properties such as code", () => {
  const original = Object.assign(new TypeError("gone"), {
    code: "ENOENT",
    status: 404,
    details: { path: ["a", "b"], ok: false, none: null },
  });
  roundTrip(original, (decoded) => {
    assert.ok(decoded instanceof TypeError);
    const fields = decoded as typeof original;
    assert.equal(fields.code, "ENOENT");
    assert.equal(fields.status, 404);
    assert.deepEqual(fields.details, {
      path: ["a", "b"],
      ok: false,
      none: null,
    });
    assert.ok(Object.keys(decoded).includes("code"));
  });
});

Deno.test("encodeError() stringifies or drops property values that are not plain data", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const original = Object.assign(new Error("odd fields"), {
    method() {},
    when: new Date(0),
    big: 10n,
    symbol: Symbol("s"),
    map: new Map([[1, 2]]),
    notANumber: NaN,
    cyclic,
    inner: new Error("inner"),
    buffer: new Uint8Array([1, 2]),
  });
  const wire = encodeError(original);
  assertPlainData(wire);
  assert.equal(wire.kind, "error");
  const props = wire.kind === "error" ? wire.props ?? {} : {};
  assert.equal("method" in props, false);
  assert.equal(props.when, String(new Date(0)));
  assert.equal(props.big, "10");
  assert.equal(props.symbol, "Symbol(s)");
  assert.equal(props.map, "[object Map]");
  assert.equal(props.notANumber, "NaN");
  assert.equal(props.cyclic, "[object Object]");
  assert.equal(props.inner, "Error: inner");
  assert.equal(props.buffer, "1,2");
  roundTrip(original, (decoded) => {
    assert.equal((decoded as Record<string, unknown>).big, "10");
  });
});

Deno.test("decodeError() returns thrown non-Error values unchanged", () => {
  const values = [
    "a string",
    "",
    42,
    0,
    -1.5,
    true,
    null,
    { reason: "plain", list: [1, "two", { three: 3 }] },
    [1, 2, 3],
  ];
  for (const value of values) {
    roundTrip(value, (decoded) => assert.deepEqual(decoded, value));
  }
  roundTrip(undefined, (decoded) => assert.equal(decoded, undefined));
});

Deno.test("decodeError() gives the String() of a thrown value that is not plain data", () => {
  function task() {
    return 1;
  }
  const cases: [unknown, string][] = [
    [task, String(task)],
    [Symbol("why"), "Symbol(why)"],
    [12n, "12"],
    [Infinity, "Infinity"],
    [new Map(), "[object Map]"],
    [{ when: new Date(0) }, "[object Object]"],
    [{ call: () => 1 }, "[object Object]"],
  ];
  for (const [thrown, expected] of cases) {
    const wire = encodeError(thrown);
    assertPlainData(wire);
    roundTrip(thrown, (decoded) => assert.equal(decoded, expected));
  }
});

Deno.test("decodeError() turns an unregistered custom class into an Error with its name", () => {
  class PaymentError extends Error {
    constructor(message: string, readonly amount: number) {
      super(message);
      this.name = "PaymentError";
    }
  }
  class Unnamed extends Error {}
  roundTrip(new PaymentError("declined", 5), (decoded) => {
    assert.equal(Object.getPrototypeOf(decoded), Error.prototype);
    const error = decoded as PaymentError;
    assert.equal(error.name, "PaymentError");
    assert.equal(error.message, "declined");
    assert.equal(error.amount, 5);
    assert.match(String(error.stack), /^PaymentError: declined/);
  });
  roundTrip(new Unnamed("no name set"), (decoded) => {
    assert.equal(Object.getPrototypeOf(decoded), Error.prototype);
    assert.equal((decoded as Error).name, "Unnamed");
  });
});

Deno.test("decodeError() keeps a registered class, its fields and instanceof", () => {
  class QuotaError extends RangeError {
    readonly limit: number;
    constructor(limit: number, options?: ErrorOptions) {
      if (typeof limit !== "number") throw new Error("limit is required");
      super(`over the quota of ${limit}`, options);
      this.name = "QuotaError";
      this.limit = limit;
    }
  }
  registerErrorClass(QuotaError);
  registerErrorClass(QuotaError);
  const original = new QuotaError(10, { cause: new Error("why") });
  roundTrip(original, (decoded) => {
    assert.ok(decoded instanceof QuotaError);
    assert.ok(decoded instanceof RangeError);
    assert.equal(decoded.limit, 10);
    assert.equal(decoded.name, "QuotaError");
    assert.equal(decoded.message, "over the quota of 10");
    assert.equal(decoded.stack, original.stack);
    assert.equal((decoded.cause as Error).message, "why");
    assert.deepEqual(Object.keys(decoded).sort(), ["limit", "name"]);
    assert.equal(
      Object.getOwnPropertyDescriptor(decoded, "message")?.enumerable,
      false,
    );
  });
});

Deno.test("registerErrorClass() lets a later class with the same name replace an earlier one", () => {
  const First = class Clash extends Error {};
  const Second = class Clash extends Error {};
  registerErrorClass(First);
  registerErrorClass(Second);
  roundTrip(new First("x"), (decoded) => assert.ok(decoded instanceof Second));
});

Deno.test("registerErrorClass() rejects what is not an Error class", () => {
  class NotAnError {}
  const bad: unknown[] = [
    42,
    "Error",
    null,
    undefined,
    {},
    NotAnError,
    function plain() {},
    () => {},
  ];
  for (const value of bad) {
    assert.throws(
      () => registerErrorClass(value as typeof Error),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message.includes("'Class'") &&
        error.message.includes(`received ${String(value)}`),
    );
  }
  assert.throws(
    () => registerErrorClass(class extends Error {}),
    /must have a name/,
  );
});

Deno.test("decodeError() keeps the library's own error classes and fields", () => {
  const cases: [Error, Record<string, unknown>][] = [
    [new CancelledError(), {}],
    [new TimeoutError("took too long"), {}],
    [new InvalidStateError("after shutdown"), {}],
    [new BrokenExecutorError("broken", { cause: new Error("init") }), {}],
    [
      new WorkerCrashedError("worker 1 exited", {
        exitCode: 3,
        signal: "SIGKILL",
      }),
      { exitCode: 3, signal: "SIGKILL" },
    ],
    [new CircuitOpenError("api.example", 1500), {
      domain: "api.example",
      retryAfter: 1500,
    }],
  ];
  for (const [original, fields] of cases) {
    roundTrip(original, (decoded) => {
      assert.equal(
        Object.getPrototypeOf(decoded),
        Object.getPrototypeOf(original),
      );
      const error = decoded as Error & Record<string, unknown>;
      assert.equal(error.name, original.name);
      assert.equal(error.message, original.message);
      assert.equal(error.stack, original.stack);
      for (const [key, value] of Object.entries(fields)) {
        assert.equal(error[key], value);
      }
    });
  }
  roundTrip(new WorkerCrashedError("no details"), (decoded) => {
    assert.ok(decoded instanceof WorkerCrashedError);
    assert.equal(decoded.exitCode, undefined);
    assert.equal(decoded.signal, undefined);
  });
});

Deno.test("encodeError() output survives structuredClone and JSON unchanged", () => {
  class Custom extends Error {
    code = "E_CUSTOM";
  }
  const samples: unknown[] = [
    new Error("plain"),
    new AggregateError([new TypeError("t"), 1], "agg", { cause: "c" }),
    new DOMException("clone", "DataCloneError"),
    new Custom("custom", { cause: new SyntaxError("s") }),
    new CircuitOpenError("db", 20),
    "thrown string",
    { a: [1, { b: null }] },
  ];
  for (const sample of samples) {
    const wire = encodeError(sample);
    assertPlainData(wire);
    assert.deepEqual(structuredClone(wire), wire);
    assert.deepEqual(json(wire), wire);
  }
});

Deno.test("encodeError() wire form loses only undefined values through JSON", () => {
  const wire = encodeError(
    Object.assign(new Error("u"), { missing: undefined }),
  );
  assert.equal(wire.kind, "error");
  assert.deepEqual(structuredClone(wire), wire);
  const viaJson = json(wire);
  assert.equal(
    viaJson.kind === "error" && "missing" in (viaJson.props ?? {}),
    false,
  );
  assert.deepEqual(json(encodeError(undefined)), { kind: "value" });
  assert.equal(decodeError(json(encodeError(undefined))), undefined);
});

Deno.test("encodeError() never throws on hostile values", () => {
  const trap = () => {
    throw new Error("trap");
  };
  const allTraps = new Proxy({}, {
    get: trap,
    getPrototypeOf: trap,
    ownKeys: trap,
    has: trap,
    getOwnPropertyDescriptor: trap,
  });
  const getTrap = new Proxy({ a: 1 }, { get: trap });
  const errorProxy = new Proxy(new Error("inside"), {
    get: trap,
    ownKeys: trap,
  });
  const badMessage = new Error("hidden");
  Object.defineProperty(badMessage, "message", { get: trap, enumerable: true });
  const badField = Object.defineProperty(new Error("field"), "code", {
    get: trap,
    enumerable: true,
  });
  const badNested = Object.assign(new Error("nested"), {
    data: Object.defineProperty({}, "x", { get: trap, enumerable: true }),
  });
  class Getters extends Error {
    override get message(): string {
      throw new Error("no message");
    }
    override get name(): string {
      throw new Error("no name");
    }
  }
  const noString = { toString: trap, [Symbol.toPrimitive]: trap };
  const hostile = [
    allTraps,
    getTrap,
    errorProxy,
    badMessage,
    badField,
    badNested,
    new Getters(),
    noString,
    Object.create(null),
  ];
  for (const value of hostile) {
    const wire = encodeError(value);
    assertPlainData(wire);
    assert.doesNotThrow(() => decodeError(json(wire)));
    assert.doesNotThrow(() => decodeError(structuredClone(wire)));
  }
  const message = decodeError(encodeError(badMessage)) as Error;
  assert.ok(message instanceof Error);
  assert.equal(message.message, "");
  const field = decodeError(encodeError(badField)) as Error & { code: unknown };
  assert.equal(field.message, "field");
  assert.equal(field.code, undefined);
  const nested = decodeError(encodeError(badNested)) as Error & {
    data: unknown;
  };
  assert.equal(nested.data, "[object Object]");
  const getters = decodeError(encodeError(new Getters())) as Error;
  assert.equal(getters.name, "Getters");
  assert.deepEqual(decodeError(encodeError(Object.create(null))), {});
});

Deno.test("decodeError() does not treat inherited names as classes", () => {
  for (const className of ["__proto__", "toString", "constructor"]) {
    const decoded = decodeError({
      kind: "error",
      className,
      name: "Error",
      message: "m",
      props: JSON.parse('{"__proto__": 1, "code": 2}'),
    }) as Error & Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(decoded), Error.prototype);
    assert.equal(decoded.code, 2);
    assert.ok(Object.hasOwn(decoded, "__proto__"));
  }
});
