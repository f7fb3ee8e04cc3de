import {
  ClientFrameType,
  EventKind,
  FrameErrorCode,
  ServerFrameType,
  type ChatEvent,
  type ClientFrame,
  type ServerFrame,
  type UpgradeCursor,
  type WelcomeFrame,
} from "../protocol/index.js";
import { HubMessageKind } from "../sdk/hub-messages.js";
import type { MessageSender } from "./message-sender.js";
import type { ProfileKeeper } from "./profile-keeper.js";
import type { SnapshotKeeper } from "./snapshot-keeper.js";

export interface EventStreamDeps {
  keeper: SnapshotKeeper;
  sender: MessageSender;
  profile: ProfileKeeper;
  sendFrame: (frame: ClientFrame) => boolean;
  /** After a gap the stream cannot fill: reload unread, profile and conversations over REST. */
  refetch: () => Promise<void>;
}

/**
 * The server's frames in order: resume from the stored (epoch, seq) — offered in the upgrade
 * (`upgradeCursor`), or as a `resume` frame after a `welcome` that did not take it — events
 * applied once each (a replayed seq is skipped), a REST refetch when the gap could not be
 * replayed. The position lives in the snapshot, so whichever home runs the hub next resumes
 * from it.
 */
export class EventStream {
  readonly #deps: EventStreamDeps;
  #welcome: WelcomeFrame | null = null;

  constructor(deps: EventStreamDeps) {
    this.#deps = deps;
  }

  /**
   * The position to offer in `userId`'s upgrade: the stored one when it is theirs, else none
   * (`epoch: ""`, answered with `resumed {recovered: false}`, which refetches over REST).
   */
  upgradeCursor(userId: number): UpgradeCursor {
    const { epoch, seq, user } = this.#deps.keeper.snapshot;
    return epoch !== null && user?.id === userId ? { epoch, seq } : { epoch: "", seq: 0 };
  }

  async onFrame(frame: ServerFrame): Promise<void> {
    const keeper = this.#deps.keeper;
    switch (frame.type) {
      case ServerFrameType.welcome: {
        this.#welcome = frame;
        if (frame.resuming) return; // the server replays the upgrade's cursor; `resumed` follows
        const cursor = this.upgradeCursor(frame.userId);
        if (cursor.epoch !== "") {
          this.#deps.sendFrame({ type: ClientFrameType.resume, ...cursor });
        } else {
          keeper.setPosition(frame.epoch, frame.seq);
          await this.#deps.refetch();
        }
        return;
      }
      case ServerFrameType.resumed:
        if (frame.recovered) {
          if (frame.epoch !== undefined && frame.seq !== undefined) keeper.setPosition(frame.epoch, frame.seq);
          return;
        }
        keeper.setPosition(frame.epoch ?? this.#welcome?.epoch ?? null, frame.seq ?? this.#welcome?.seq ?? 0);
        await this.#deps.refetch();
        return;
      case ServerFrameType.event: {
        const { epoch, seq } = keeper.snapshot;
        if (frame.epoch === epoch && frame.seq <= seq) return; // already seen (replay overlap)
        keeper.setPosition(frame.epoch, frame.seq);
        await this.#onEvent(frame.event);
        return;
      }
      case ServerFrameType.ack:
        this.#deps.sender.onAck(frame);
        return;
      case ServerFrameType.error:
        if (frame.clientMsgId) {
          this.#deps.sender.onRefused(frame.clientMsgId, frame.message, frame.code, frame.retryAfterMs);
        } else if (frame.code === FrameErrorCode.unknownType && this.#welcome) {
          // A server without history does not know `resume`: refetch over REST instead.
          keeper.setPosition(this.#welcome.epoch, this.#welcome.seq);
          await this.#deps.refetch();
        }
        return;
      case ServerFrameType.pong:
        return;
    }
  }

  async #onEvent(event: ChatEvent): Promise<void> {
    switch (event.kind) {
      case EventKind.message:
        this.#deps.keeper.apply({ kind: HubMessageKind.message, message: event.message });
        return;
      case EventKind.unread:
        this.#deps.keeper.apply({ kind: HubMessageKind.unread, count: event.count });
        return;
      case EventKind.read:
        this.#deps.keeper.apply({ kind: HubMessageKind.read, peerId: event.readerId, upToMessageId: event.upToMessageId, readAt: event.readAt });
        return;
      case EventKind.profile:
        await this.#deps.profile.onProfileEvent(event.etag);
        return;
    }
  }
}
