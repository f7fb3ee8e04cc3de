import * as v from "valibot";
import { ChatEvent } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import type { StoredEvent } from "./ports.js";
import { closeClient, duplicateForSubscribe } from "./redis-connections.js";
import { instanceChannel, type RedisClient } from "./redis-keys.js";

/**
 * What travels on an instance channel, validated on receipt as client frames are. The field
 * names are one letter because Lua scripts build these messages on every claim and every event
 * (`redis-scripts.ts`), and they stay as they are so that instances of two versions keep
 * understanding each other during a rolling deploy:
 * - `k` kind: `"r"` a replacement notice, `"e"` a live event;
 * - `u` the user id;
 * - `c` (notice) the connection id that lost;
 * - `s` (event) the stored event `{epoch, seq, event}`.
 */
const ReplacedNotice = v.object({ k: v.literal("r"), u: v.pipe(v.number(), v.integer(), v.minValue(1)), c: v.pipe(v.string(), v.minLength(1)) });
const RoutedEvent = v.object({
  k: v.literal("e"),
  u: v.pipe(v.number(), v.integer(), v.minValue(1)),
  s: v.object({ epoch: v.string(), seq: v.pipe(v.number(), v.integer(), v.minValue(1)), event: ChatEvent }),
});
const InstanceMessage = v.variant("k", [ReplacedNotice, RoutedEvent]);
export type InstanceMessage = v.InferOutput<typeof InstanceMessage>;

/** Listeners one module added to the channel, removed together when that module closes. */
export class ChannelSubscriptions {
  readonly #removers = new Set<() => void>();

  /** Keep `remove`; returns the function that removes this one listener. */
  add(remove: () => void): () => void {
    this.#removers.add(remove);
    return () => {
      if (this.#removers.delete(remove)) remove();
    };
  }

  clear(): void {
    for (const remove of this.#removers) remove();
    this.#removers.clear();
  }
}

type ReplacedListener = (userId: number, connId: string) => void;
type EventListener = (userId: number, stored: StoredEvent) => void;

/**
 * The one pub/sub channel of this server instance (`sb:inst:<instanceId>`), on its own
 * subscriber connection (a connection in subscribe mode cannot run other commands). Other
 * instances publish to it from Lua: the owner claim script tells the previous owner's instance
 * to close its socket, and the route script delivers a user's event to the instance holding the
 * user's socket. ioredis re-subscribes by itself after a reconnect.
 */
export class RedisInstanceChannel {
  readonly channel: string;
  readonly subscriber: RedisClient;
  readonly #replaced = new Set<ReplacedListener>();
  readonly #events = new Set<EventListener>();
  readonly #logger: Logger | undefined;

  constructor(redis: RedisClient, instanceId: string, logger?: Logger) {
    this.channel = instanceChannel(instanceId);
    this.#logger = logger;
    this.subscriber = duplicateForSubscribe(redis);
    // Without a listener ioredis prints every reconnect error; the health monitor logs the state.
    this.subscriber.on("error", (error: Error) => this.#logger?.debug({ err: error.message }, "redis subscriber error"));
    this.subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.channel) this.#dispatch(message);
    });
  }

  /** Subscribe (again): resolves once Redis confirmed the subscription. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
  }

  onReplaced(listener: ReplacedListener): () => void {
    this.#replaced.add(listener);
    return () => this.#replaced.delete(listener);
  }

  onEvent(listener: EventListener): () => void {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }

  #dispatch(raw: string): void {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.#logger?.warn({ channel: this.channel, bytes: raw.length }, "ignored an unparseable instance-channel message");
      return;
    }
    const parsed = v.safeParse(InstanceMessage, json);
    if (!parsed.success) {
      // Never the message itself: an event carries message text.
      const issue = parsed.issues[0];
      this.#logger?.warn(
        { channel: this.channel, bytes: raw.length, field: issue.path?.map((p) => String(p.key)).join(".") ?? "" },
        "ignored an invalid instance-channel message",
      );
      return;
    }
    const message = parsed.output;
    if (message.k === "r") for (const listener of this.#replaced) listener(message.u, message.c);
    else for (const listener of this.#events) listener(message.u, message.s satisfies StoredEvent);
  }

  async close(): Promise<void> {
    this.#replaced.clear();
    this.#events.clear();
    await closeClient(this.subscriber);
  }
}
