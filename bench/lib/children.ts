import type { ChildProcess } from "node:child_process";

/**
 * A bench's servers and helpers end with the bench, also when it fails half-way (an uncaught
 * error, `process.exit`): they get SIGTERM, so a server stops its own private redis-server too.
 * Returns `child`.
 */
export function endWithThisProcess<T extends ChildProcess>(child: T): T {
  const end = () => child.kill("SIGTERM");
  process.once("exit", end);
  child.once("exit", () => process.off("exit", end));
  return child;
}
