export * from "./close-codes.js";
export * from "./close-action.js";
export * from "./backoff.js";
export * from "./frames.js";
export * from "./rest.js";
export * from "./text.js";
export * from "./extension.js";
