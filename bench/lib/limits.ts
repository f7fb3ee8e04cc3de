import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** The soft open-files limit of a process, read from /proc (Linux). */
export function openFilesLimit(pid: number | "self" = "self"): number {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const soft = line?.trim().split(/\s+/)[3];
  return soft === "unlimited" ? Infinity : Number(soft);
}

/**
 * Raise a process's open-files limit (soft and hard) to `wanted` with util-linux `prlimit`, the way
 * an operator sets `LimitNOFILE=` for the service. Going above the hard limit needs root
 * (CAP_SYS_RESOURCE); when that is refused the limit stays as it was. Returns the soft limit in force.
 */
export function raiseOpenFilesLimit(pid: number, wanted: number): number {
  const current = openFilesLimit(pid);
  if (current >= wanted) return current;
  try {
    execFileSync("prlimit", ["--pid", String(pid), `--nofile=${wanted}:${wanted}`], { stdio: "ignore" });
  } catch {
    // not permitted or prlimit missing: keep the current limit
  }
  return openFilesLimit(pid);
}
