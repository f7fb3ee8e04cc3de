import { EventKind, type ChatEvent, type ChatMessage } from "../../../shared/protocol/index.js";

const messages = new WeakMap<ChatMessage, string>();
const events = new WeakMap<ChatEvent, string>();

/**
 * A message's JSON, made once however many frames and histories carry it: a new message is
 * stored in two users' histories and goes out in the sender's `ack` and echo and the recipient's
 * event. Memoized on the object (never mutated once published), so nothing outlives it.
 */
export function messageJson(message: ChatMessage): string {
  let json = messages.get(message);
  if (json === undefined) {
    json = JSON.stringify(message);
    messages.set(message, json);
  }
  return json;
}

/** An event's JSON (what `JSON.stringify(event)` gives), made once; a message event reuses its message's. */
export function eventJson(event: ChatEvent): string {
  let json = events.get(event);
  if (json === undefined) {
    json = event.kind === EventKind.message ? `{"kind":${JSON.stringify(event.kind)},"message":${messageJson(event.message)}}` : JSON.stringify(event);
    events.set(event, json);
  }
  return json;
}
