// The offline `cache:migrate` tool (`cli.ts` is its entry point). Never imported by the online
// cache (`../cache/`), which it builds on (docs/cache.md#two-folders).
export { runMigration, type MigrateOptions } from "./migrator.js";
export { decodeMigrationValue, type MigrationDecodeOptions } from "./decode-migration-value.js";
export { decodePickle, PickleRejectedError } from "./pickle-walker.js";
export { BulkKeyStore } from "./bulk-key-store.js";
export { PipelineKeyStore } from "./pipeline-key-store.js";
export { NodeKeyStore, type KeyStore, type ReadItem, type WriteOp } from "./key-store.js";
export { buildReport, formatReport, type MigrationReport } from "./report.js";
