import { fileURLToPath } from "node:url";

/**
 * Files of the build this bench runs from, found beside it (`dist/bench/lib/` → `dist/…`), not
 * from the working directory: running another build's bench (`node .ab/dist/bench/cluster-bench.js`)
 * runs that build's server, so two builds can be compared one run after the other.
 */
export const SERVER_ENTRY = fileURLToPath(new URL("../../server/src/main.js", import.meta.url));

/** A file of this build's `bench/` folder, e.g. `benchFile("peers/bare-ws-peer.js")`. */
export function benchFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}
