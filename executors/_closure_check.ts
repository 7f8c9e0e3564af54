// What a function sent by source uses from outside itself. A worker compiles the function from its
// text alone, so each free identifier would silently mean a worker global or throw a bare
// ReferenceError there. The parser (acorn, ~11 ms to load) is imported on first need, on the
// calling side only: workers and by-reference tasks never load it.

import type * as Acorn from "acorn";
import { SHARED_GLOBALS } from "./_globals.ts";

type AcornModule = typeof Acorn;
// deno-lint-ignore no-explicit-any
type Node = any;

let parser: AcornModule | undefined;
let loading: Promise<AcornModule> | undefined;

/** The parser, once loaded; `undefined` until `loadParser()` has settled. */
export function loadedParser(): AcornModule | undefined {
  return parser;
}

/** Loads the parser once. */
export function loadParser(): Promise<AcornModule> {
  loading ??= import("acorn").then((module) => parser = module as AcornModule);
  return loading;
}

/** What a by-source function uses from outside: identifiers, and `this`/`arguments`/`super`. */
export interface Captures {
  names: string[];
  thisValue: boolean;
  outerArguments: boolean;
  superValue: boolean;
}

class Scope {
  readonly names = new Set<string>();
  constructor(readonly parent: Scope | undefined, readonly isFunction: boolean) {}
  functionScope(): Scope {
    return this.isFunction || !this.parent ? this : this.parent.functionScope();
  }
  has(name: string): boolean {
    return this.names.has(name) || (this.parent?.has(name) ?? false);
  }
}

const SKIP = new Set(["type", "start", "end", "loc", "range"]);

/**
 * Parses `source` (a function's `toString()`) and lists what it uses from outside. `boundName`
 * is the name the worker binds to the function itself (so recursion through it works). Returns
 * `undefined` when the text does not parse (the worker reports that itself).
 */
export function findCaptures(
  acorn: AcornModule,
  source: string,
  boundName: string | undefined,
): Captures | undefined {
  const fn = parseFunction(acorn, source);
  if (!fn) return undefined;
  const refs: { name: string; scope: Scope }[] = [];
  const captures: Captures = {
    names: [],
    thisValue: false,
    outerArguments: false,
    superValue: false,
  };
  const outside = new Scope(undefined, true);
  const root = new Scope(outside, true);
  if (boundName) root.names.add(boundName);

  const declare = (pattern: Node, scope: Scope, walkDefaults: (n: Node) => void): void => {
    if (!pattern) return;
    switch (pattern.type) {
      case "Identifier":
        scope.names.add(pattern.name);
        return;
      case "ObjectPattern":
        for (const p of pattern.properties) {
          if (p.type === "RestElement") declare(p.argument, scope, walkDefaults);
          else {
            if (p.computed) walkDefaults(p.key);
            declare(p.value, scope, walkDefaults);
          }
        }
        return;
      case "ArrayPattern":
        for (const e of pattern.elements) declare(e, scope, walkDefaults);
        return;
      case "RestElement":
        declare(pattern.argument, scope, walkDefaults);
        return;
      case "AssignmentPattern":
        declare(pattern.left, scope, walkDefaults);
        walkDefaults(pattern.right);
        return;
    }
  };

  // `thisBound`: a function or class member between here and the analysed function gives `this`
  // (and `super`, for methods) a meaning of its own.
  // An arrow function keeps the `this` and `super` of where it is written; other functions
  // bring their own (methods: `super` too), except the analysed function, which is called bare.
  const walkFunction = (
    node: Node,
    scope: Scope,
    isRoot: boolean,
    outerThis: boolean,
    outerSuper: boolean,
    method = false,
  ) => {
    const arrow = node.type === "ArrowFunctionExpression";
    const inner = isRoot ? root : new Scope(scope, true);
    if (!arrow) inner.names.add("arguments");
    if (node.type === "FunctionExpression" && node.id) inner.names.add(node.id.name);
    const thisBound = isRoot ? false : arrow ? outerThis : true;
    const superBound = isRoot ? false : arrow ? outerSuper : method;
    for (const param of node.params) {
      declare(param, inner, (n) => walk(n, inner, thisBound, superBound));
    }
    walk(node.body, inner, thisBound, superBound, true);
  };

  const walk = (
    node: Node,
    scope: Scope,
    thisBound: boolean,
    superBound: boolean,
    functionBody = false,
  ): void => {
    if (!node || typeof node.type !== "string") return;
    const recur = (n: Node, s = scope) => walk(n, s, thisBound, superBound);
    switch (node.type) {
      case "Identifier":
        refs.push({ name: node.name, scope });
        return;
      case "ThisExpression":
        if (!thisBound) captures.thisValue = true;
        return;
      case "Super":
        if (!superBound) captures.superValue = true;
        return;
      case "FunctionDeclaration":
        if (node.id) {
          scope.names.add(node.id.name);
          scope.functionScope().names.add(node.id.name);
        }
        return walkFunction(node, scope, false, thisBound, superBound);
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        return walkFunction(node, scope, false, thisBound, superBound);
      case "ClassDeclaration":
      case "ClassExpression": {
        if (node.type === "ClassDeclaration" && node.id) scope.names.add(node.id.name);
        const inner = new Scope(scope, false);
        if (node.id) inner.names.add(node.id.name);
        recur(node.superClass);
        for (const member of node.body.body) {
          if (member.computed) recur(member.key, inner);
          if (member.type === "StaticBlock") {
            const block = new Scope(inner, true);
            for (const s of member.body) walk(s, block, true, true);
          } else if (member.value) {
            if (member.value.type === "FunctionExpression") {
              walkFunction(member.value, inner, false, true, true, true);
            } else walk(member.value, inner, true, true);
          }
        }
        return;
      }
      case "VariableDeclaration": {
        const target = node.kind === "var" ? scope.functionScope() : scope;
        for (const d of node.declarations) {
          declare(d.id, target, (n) => recur(n));
          recur(d.init);
        }
        return;
      }
      case "BlockStatement":
      case "StaticBlock": {
        const inner = functionBody ? scope : new Scope(scope, false);
        for (const s of node.body) recur(s, inner);
        return;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "SwitchStatement": {
        const inner = new Scope(scope, false);
        for (const key of Object.keys(node)) if (!SKIP.has(key)) walkChild(node[key], inner);
        return;
      }
      case "CatchClause": {
        const inner = new Scope(scope, false);
        declare(node.param, inner, (n) => recur(n, inner));
        recur(node.body, inner);
        return;
      }
      case "MemberExpression":
        recur(node.object);
        if (node.computed) recur(node.property);
        return;
      case "Property":
        if (node.computed) recur(node.key);
        if (node.method || node.kind === "get" || node.kind === "set") {
          return walkFunction(node.value, scope, false, thisBound, superBound, true);
        }
        recur(node.value);
        return;
      case "UnaryExpression":
        // `typeof x` on an undeclared name is the feature-detection idiom: it cannot throw.
        if (node.operator === "typeof" && node.argument.type === "Identifier") return;
        recur(node.argument);
        return;
      case "LabeledStatement":
        recur(node.body);
        return;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
      case "PrivateIdentifier":
        return;
    }
    for (const key of Object.keys(node)) if (!SKIP.has(key)) walkChild(node[key], scope);

    function walkChild(child: Node, s: Scope): void {
      if (Array.isArray(child)) { for (const c of child) walk(c, s, thisBound, superBound); }
      else if (child && typeof child.type === "string") walk(child, s, thisBound, superBound);
    }
  };

  if (fn.type === "Property" || fn.type === "MethodDefinition") {
    walkFunction(fn.value, outside, true, false, false);
  } else if (fn.type === "ClassExpression") {
    walk(fn, outside, false, false);
  } else walkFunction(fn, outside, true, false, false);

  const names = new Set<string>();
  for (const { name, scope } of refs) {
    if (scope.has(name)) continue;
    if (name === "arguments") captures.outerArguments = true;
    else if (!SHARED_GLOBALS.has(name)) names.add(name);
  }
  captures.names = [...names];
  return captures;
}

function parseFunction(acorn: AcornModule, source: string): Node | undefined {
  const attempts: [string, (program: Node) => Node][] = [
    [`(${source})`, (p) => p.body[0].expression],
    // Method shorthand (`name(a) { … }`, getters, async and generator methods).
    [`({${source}})`, (p) => p.body[0].expression.properties[0]],
  ];
  for (const [text, pick] of attempts) {
    for (const sourceType of ["module", "script"] as const) {
      try {
        const program = acorn.parse(text, { ecmaVersion: "latest", sourceType });
        if (program.body.length === 1) return pick(program);
      } catch {
        // Try the next form.
      }
    }
  }
  return undefined;
}

/** Says what a by-source function uses from outside and what to do; `undefined` if nothing. */
export function describeCaptures(captures: Captures): string | undefined {
  const uses: string[] = [];
  if (captures.names.length > 0) {
    uses.push(captures.names.map((n) => `'${n}'`).join(", "));
  }
  if (captures.thisValue) uses.push("'this' (a method called without its object?)");
  if (captures.outerArguments) uses.push("'arguments' of an outer function");
  if (captures.superValue) uses.push("'super'");
  return uses.length === 0 ? undefined : uses.join(", ");
}
