import { ensurePgliteTemplate } from "./helpers/pglite-template.js";

/** Runs once before all test files. */
export default async function setup(): Promise<void> {
  await ensurePgliteTemplate();
}
