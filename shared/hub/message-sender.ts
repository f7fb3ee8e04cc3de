import { ClientFrameType, RestPath, type AckFrame, type ChatMessage, type ClientFrame } from "../protocol/index.js";
import { HubMessageKind } from "../sdk/hub-messages.js";
import { PendingReplies } from "../sdk/pending-replies.js";
import type { Api } from "./api.js";
import type { Timers } from "./connection.js";
import type { SnapshotKeeper } from "./snapshot-keeper.js";

/** How long a `send` waits for its `ack` before falling back to the idempotent REST send. */
export const ACK_TIMEOUT_MS = 5000;

export interface MessageSenderDeps {
  api: Api;
  keeper: SnapshotKeeper;
  timers: Timers;
  now: () => number;
  /** Send a frame on the open socket; false when there is none. */
  sendFrame: (frame: ClientFrame) => boolean;
}

class AckTimeout extends Error {}

/**
 * The server answered a `send` with an `error` frame; `code` is its `FrameErrorCode`, and
 * `retryAfterMs` (with `rate_limited`) says when the budget allows a send again.
 */
export class SendRefusedError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Sends a chat message: over the socket when it is open, resolved by the server's `ack`; over
 * REST when it is not, or when no ack came within `ACK_TIMEOUT_MS`. Both are idempotent on
 * `clientMsgId`, so a retry (this fallback, or a tab re-sending to the next leader) cannot
 * duplicate a message.
 */
export class MessageSender {
  readonly #deps: MessageSenderDeps;
  readonly #acks: PendingReplies<ChatMessage>;
  /** What each socket send carried, to build the message from a bare `ack {messageId}`. */
  readonly #drafts = new Map<string, { to: number; body: string }>();

  constructor(deps: MessageSenderDeps) {
    this.#deps = deps;
    this.#acks = new PendingReplies(deps.timers);
  }

  async send(to: number, body: string, clientMsgId: string): Promise<ChatMessage> {
    const acked = this.#acks.wait(clientMsgId, ACK_TIMEOUT_MS, () => new AckTimeout("ack timeout"));
    this.#drafts.set(clientMsgId, { to, body });
    if (this.#deps.sendFrame({ type: ClientFrameType.send, clientMsgId, to, body })) {
      try {
        return await acked;
      } catch (error) {
        if (!(error instanceof AckTimeout)) throw error;
      }
    } else {
      this.#acks.forget(clientMsgId);
      acked.catch(() => undefined);
    }
    this.#drafts.delete(clientMsgId);
    // Not connected (or no ack in time): REST is idempotent on clientMsgId, so this cannot duplicate.
    const response = await this.#deps.api.request<{ message: ChatMessage }>(RestPath.messages, { method: "POST", body: { to, body, clientMsgId } });
    this.#acked(clientMsgId, response.body.message);
    return response.body.message;
  }

  onAck(frame: AckFrame): void {
    const draft = this.#drafts.get(frame.clientMsgId);
    const message = frame.message ?? (draft && this.#fromAck(frame.clientMsgId, frame.messageId, draft));
    if (message) this.#acked(frame.clientMsgId, message);
  }

  /** The server refused a send (bad body, unknown peer): the tab hears why. */
  onRefused(clientMsgId: string, reason: string, code?: string, retryAfterMs?: number): void {
    this.#drafts.delete(clientMsgId);
    this.#acks.reject(clientMsgId, new SendRefusedError(reason, code, retryAfterMs));
  }

  stop(): void {
    this.#drafts.clear();
    this.#acks.rejectAll(new Error("The hub stopped before the server acknowledged this message; it is sent again by the next hub."));
  }

  #fromAck(clientMsgId: string, messageId: number, draft: { to: number; body: string }): ChatMessage {
    const from = this.#deps.keeper.snapshot.user?.id ?? 0;
    return { id: messageId, from, to: draft.to, body: draft.body, clientMsgId, createdAt: new Date(this.#deps.now()).toISOString(), readAt: null };
  }

  #acked(clientMsgId: string, message: ChatMessage): void {
    this.#drafts.delete(clientMsgId);
    this.#deps.keeper.apply({ kind: HubMessageKind.ack, clientMsgId, message });
    this.#acks.resolve(clientMsgId, message);
  }
}
