import type { Logger } from "../log/logger.js";
import type { StoredEvent } from "./ports.js";
import { closeClient, duplicateForSubscribe } from "./redis-connections.js";
import { instanceChannel, type RedisClient } from "./redis-keys.js";

/** What travels on an instance channel: a replacement notice or a live event. */
export type InstanceMessage =
  | { k: "r"; u: number; c: string }
  | { k: "e"; u: number; s: StoredEvent };

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
    let message: InstanceMessage;
    try {
      message = JSON.parse(raw) as InstanceMessage;
    } catch {
      this.#logger?.warn({ channel: this.channel, bytes: raw.length }, "ignored an unparseable instance-channel message");
      return;
    }
    if (message.k === "r") for (const listener of this.#replaced) listener(message.u, message.c);
    else if (message.k === "e") for (const listener of this.#events) listener(message.u, message.s);
  }

  async close(): Promise<void> {
    this.#replaced.clear();
    this.#events.clear();
    await closeClient(this.subscriber);
  }
}
