/**
 * The Node flags the server is started with in production (docs/operations.md, `npm start`),
 * given to every server process a benchmark starts — the comparison peers too, so each runs on the
 * same V8 settings. `--max-semi-space-size=32`: V8's young generation at twice Node 20's default
 * (16 MB per semi-space); see docs/operations.md#node-flags for what it measured.
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=32"];
