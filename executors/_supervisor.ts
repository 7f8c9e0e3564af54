// The supervision of a pool: why a worker ended (read from the phase it ended in), what that does
// to the tasks it was running, whether it is replaced (the restart limit and backoff), and
// breaking the pool when it cannot go on.

import { BrokenExecutorError, WorkerCrashedError } from "../future/errors.ts";
import type { WorkerExit } from "../actors/_pool_worker.ts";
import { RestartSupervisor } from "../actors/_restart_supervisor.ts";
import { bystanderCrash } from "./_task.ts";
import { type Member, messageOf, type Phase } from "./_membership.ts";
import type { PoolSettings } from "./_worker_engine.ts";

/**
 * What a worker's end means, from the phase it ended in: `failedToStart` breaks the pool (its
 * modules or initializer cannot load), `crash` is replaced under `onCrash` and the restart limit,
 * `retired` was on its way out and has been replaced already.
 */
export type ExitVerdict = "failedToStart" | "crash" | "retired";

/** Why a worker in `phase` ended with `exit`. */
export function exitVerdict(phase: Phase, exit: WorkerExit): ExitVerdict {
  if (phase === "retiring") return "retired";
  // A worker that ends before it is ready has failed to start: its modules or its initializer
  // threw, exited (`Deno.exit()`) or closed it (`self.close()`); a process's import errors go to
  // its stderr, and only its exit code comes here. Restarting it would fail the same way. A
  // process killed by a signal did not fail to load: something ended it from outside.
  if (phase === "starting" && exit.cause !== "signal") return "failedToStart";
  return "crash";
}

/** How a worker ended, in words. */
export function describeExit(exit: WorkerExit, kind: "thread" | "process"): string {
  switch (exit.cause) {
    case "close":
      return "called self.close()";
    case "uncaught":
      return `failed with an uncaught error: ${messageOf(exit.error)}`;
    case "signal":
      return `was ended by ${exit.signal} (out of memory, or killed from outside)`;
    case "exit":
      return kind === "process"
        ? `exited with code ${exit.code}`
        : `called Deno.exit(${exit.code})`;
  }
}

/** What supervision asks of the rest of the engine. */
export interface SupervisionHost {
  /** Breaks the executor with `error`: queued tasks reject, workers end. */
  broken(error: BrokenExecutorError): void;
  isBroken(): boolean;
}

/** Decides what a worker's end does to its tasks and to the pool. */
export class Supervision {
  readonly #settings: PoolSettings;
  readonly #host: SupervisionHost;
  readonly #restarts: RestartSupervisor;

  constructor(settings: PoolSettings, host: SupervisionHost) {
    this.#settings = settings;
    this.#host = host;
    this.#restarts = new RestartSupervisor(settings.restartLimit, settings.restartBackoff);
  }

  /** The error for a task that was running on `member` when it ended with `exit`. */
  crashError(member: Member, exit: WorkerExit, verdict: ExitVerdict): WorkerCrashedError {
    const how = describeExit(exit, this.#settings.kind);
    const details = {
      exitCode: exit.code,
      ...(exit.signal ? { signal: exit.signal } : {}),
      cause: exit.error,
    };
    // On a retiring worker, the stopped task is the likely culprit (a killed process ends its
    // other tasks with it): the others are not held to account as poison.
    return verdict === "retired"
      ? bystanderCrash(
        `worker ${member.id} ${how} while running the task, after another task on it was stopped`,
        details,
      )
      : new WorkerCrashedError(`worker ${member.id} ${how} while running the task`, details);
  }

  /**
   * Judges a worker's end, before the pool acts on it: why the pool must break, or undefined when
   * it carries on (a crash is counted toward the restart limit then). The caller settles the tasks
   * that were running on the worker first (knowing whether the pool breaks: a task whose worker's
   * death breaks the pool is not retried), then breaks the pool with what this returned.
   */
  judge(
    member: Member,
    exit: WorkerExit,
    verdict: ExitVerdict,
  ): { message: string; cause: unknown } | undefined {
    if (verdict === "retired") return undefined;
    const how = describeExit(exit, this.#settings.kind);
    if (verdict === "failedToStart") {
      return {
        message: `worker ${member.id} failed to start: ${messageOf(exit.error ?? how)}`,
        cause: exit.error,
      };
    }
    if (this.#settings.onCrash === "break") {
      return { message: `worker ${member.id} ${how} and 'onCrash' is "break"`, cause: exit.error };
    }
    if (!this.#restarts.crashed(performance.now())) {
      const { max, within } = this.#settings.restartLimit;
      return {
        message:
          `more than ${max} worker restarts within ${within} ms (the restart limit); the last: worker ${member.id} ${how}`,
        cause: exit.error,
      };
    }
    return undefined;
  }

  /** Milliseconds until the next worker may be spawned (0 or less: now). */
  waitBeforeSpawn(): number {
    return this.#restarts.waitBeforeSpawn(performance.now());
  }

  /** Breaks the pool, once. */
  break(message: string, cause: unknown): void {
    if (this.#host.isBroken()) return;
    this.#host.broken(
      new BrokenExecutorError(`${this.#settings.label} is broken: ${message}`, { cause }),
    );
  }
}
