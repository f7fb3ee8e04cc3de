import { EventKind, FrameErrorCode, ServerFrameType, type ChatMessage, type ReadFrame, type SendFrame, type ServerFrame } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
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
 * (sender, clientMsgId): a retry returns the first message and publishes nothing again.
 */
export class MessageService {
  constructor(
    private readonly store: Store,
    private readonly publish: Publish,
    private readonly logger: Logger,
  ) {}

  async send(from: number, to: number, body: string, clientMsgId: string | null): Promise<{ message: ChatMessage; created: boolean }> {
    if (!(await this.store.findUserById(to))) throw new RecipientNotFoundError(to);
    const result = await this.store.sendMessage(from, to, body, clientMsgId);
    if (result.created) {
      const event = { kind: EventKind.message, message: result.message } as const;
      await this.#publish(to, event);
      if (from !== to) await this.#publish(from, event);
      await this.#publish(to, { kind: EventKind.unread, count: await this.store.unreadCount(to) });
    }
    return result;
  }

  async markRead(userId: number, peerId: number, upToMessageId: number): Promise<number> {
    const changed = await this.store.markRead(userId, peerId, upToMessageId);
    const count = await this.store.unreadCount(userId);
    if (changed > 0) await this.#publish(userId, { kind: EventKind.unread, count });
    return count;
  }

  /** The socket's `send` frame → `ack` (or an `error` frame naming the clientMsgId). */
  async handleSendFrame(userId: number, frame: SendFrame): Promise<ServerFrame> {
    try {
      const { message } = await this.send(userId, frame.to, frame.body, frame.clientMsgId);
      return { type: ServerFrameType.ack, clientMsgId: frame.clientMsgId, messageId: message.id, message };
    } catch (error) {
      if (error instanceof RecipientNotFoundError) {
        return { type: ServerFrameType.error, code: FrameErrorCode.notFound, message: error.message, clientMsgId: frame.clientMsgId };
      }
      throw error;
    }
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
