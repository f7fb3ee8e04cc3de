import { EventKind, type ChatEvent, type ChatMessage } from "../../../shared/protocol/index.js";

/** Where an object's JSON text is kept once made: a symbol key, which `JSON.stringify` skips. */
const JSON_TEXT = Symbol("switchboard.jsonText");

type WithJson<T> = T & { readonly [JSON_TEXT]?: string };

/**
 * Keeps `json` on `value` as a non-enumerable, read-only symbol property: invisible to
 * `JSON.stringify`, `Object.keys` and spread copies (a modified copy never inherits a stale
 * text). Measured against a `WeakMap` memo (Node 20, 2 × AMD EPYC, three look-ups an event):
 * 1.0–1.1 µs against 1.7–1.9 µs an event, JSON included — a weak map makes every scavenge walk
 * its ephemeron table, and its set is a hash insert.
 */
function remember<T extends object>(value: T, json: string): string {
  if (Object.isExtensible(value)) Object.defineProperty(value, JSON_TEXT, { value: json }); // a frozen one is serialized each time
  return json;
}

/**
 * A message's JSON, made once however many frames and histories carry it: a new message is
 * stored in two users' histories and goes out in the sender's `ack` and echo and the recipient's
 * event. Kept on the object (never mutated once published), so nothing outlives it.
 */
export function messageJson(message: ChatMessage): string {
  return (message as WithJson<ChatMessage>)[JSON_TEXT] ?? remember(message, JSON.stringify(message));
}

/** An event's JSON (what `JSON.stringify(event)` gives), made once; a message event reuses its message's. */
export function eventJson(event: ChatEvent): string {
  const known = (event as WithJson<ChatEvent>)[JSON_TEXT];
  if (known !== undefined) return known;
  const json = event.kind === EventKind.message ? `{"kind":${JSON.stringify(event.kind)},"message":${messageJson(event.message)}}` : JSON.stringify(event);
  return remember(event, json);
}
