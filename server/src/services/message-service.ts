import {
  EventKind,
  FrameErrorCode,
  ServerFrameType,
  type ChatMessage,
  type ReadFrame,
  type SendFrame,
  type ServerFrame,
} from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import { MessageWriter, type WriteOutcome } from "../store/message-writer.js";
import type { Store } from "../store/store.js";
import type { Publish } from "./profile-service.js";

export class RecipientNotFoundError extends Error {
  constructor(readonly userId: number) {
    super(`No user with id ${userId}`);
    this.name = "RecipientNotFoundError";
  }
}

/**
 * Sending and reading messages, from REST and from the socket alike. A send is idempotent on
 * (sender, clientMsgId): a retry returns the first message and publishes nothing again. Sends go
 * through the write-coalescing `MessageWriter` (one statement for many concurrent sends, each
 * sender's in order).
 */
export class MessageService {
  readonly #writer: MessageWriter;

  constructor(
    private readonly store: Store,
    private readonly publish: Publish,
    private readonly logger: Logger,
    writer?: MessageWriter,
  ) {
    this.#writer = writer ?? new MessageWriter(store);
  }

  async send(from: number, to: number, body: string, clientMsgId: string | null): Promise<{ message: ChatMessage; created: boolean }> {
    return this.#announce(from, to, await this.#writer.write({ from, to, body, clientMsgId }));
  }

  /** After the store: publish a new message's events (`message` to both sides, then the recipient's `unread`). */
  async #announce(from: number, to: number, outcome: WriteOutcome): Promise<{ message: ChatMessage; created: boolean }> {
    if (outcome.kind === "recipientNotFound") throw new RecipientNotFoundError(to);
    if (outcome.kind === "duplicate") return { message: outcome.message, created: false };
    const event = { kind: EventKind.message, message: outcome.message } as const;
    // Every append is issued before the first await, in this order, on the realtime layer's one
    // command connection: the recipient's `message` then its `unread` get consecutive seqs without
    // waiting for each other, and the caller may issue the next send's events right after.
    const published = [this.#publish(to, event), from !== to ? this.#publish(from, event) : undefined];
    const count = outcome.unread ?? (await this.store.unreadCount(to)); // (null only if the batch's count query failed)
    published.push(this.#publish(to, { kind: EventKind.unread, count }));
    await Promise.all(published);
    return { message: outcome.message, created: true };
  }

  async markRead(userId: number, peerId: number, upToMessageId: number): Promise<number> {
    const changed = await this.store.markRead(userId, peerId, upToMessageId);
    const count = await this.store.unreadCount(userId);
    if (changed > 0) {
      // The sender's tabs show "Read" without asking: the reader's own count, then the sender's receipt.
      await Promise.all([
        this.#publish(userId, { kind: EventKind.unread, count }),
        peerId !== userId ? this.#publish(peerId, { kind: EventKind.read, readerId: userId, upToMessageId, readAt: new Date().toISOString() }) : undefined,
      ]);
    }
    return count;
  }

  /**
   * The socket's `send` frame. Storing starts at once (so a socket's pipelined sends share
   * batches); the returned promise resolves after the store with the step that publishes the
   * events and gives the reply (`ack`, or an `error` frame naming the clientMsgId). The caller runs
   * those steps in arrival order. Rejects when the message could not be stored.
   */
  handleSendFrame(userId: number, frame: SendFrame): Promise<() => Promise<ServerFrame>> {
    return this.#writer.write({ from: userId, to: frame.to, body: frame.body, clientMsgId: frame.clientMsgId }).then((outcome) => async () => {
      try {
        const { message } = await this.#announce(userId, frame.to, outcome);
        return { type: ServerFrameType.ack, clientMsgId: frame.clientMsgId, messageId: message.id, message };
      } catch (error) {
        if (error instanceof RecipientNotFoundError) {
          return { type: ServerFrameType.error, code: FrameErrorCode.notFound, message: error.message, clientMsgId: frame.clientMsgId };
        }
        throw error;
      }
    });
  }

  async handleReadFrame(userId: number, frame: ReadFrame): Promise<ServerFrame | null> {
    await this.markRead(userId, frame.peerId, frame.upToMessageId);
    return null; // the `unread` event carries the new count
  }

  async #publish(userId: number, event: Parameters<Publish>[1]): Promise<void> {
    try {
      await this.publish(userId, event);
    } catch (error) {
      // The message is stored; a client that missed the event catches up by resume or REST.
      this.logger.warn({ err: error, userId }, "event not published");
    }
  }
}
