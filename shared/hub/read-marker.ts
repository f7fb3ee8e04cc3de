/** What a peer's lane holds: the call in flight, and the one that will follow it for everyone who asked meanwhile. */
interface Lane {
  running: Promise<number> | null;
  queued: { upToMessageId: number; result: Promise<number> } | null;
}

/**
 * Marks conversations read for all the tabs of one hub. Every tab that shows a conversation asks
 * when a message arrives in it, so one message made one `POST` per tab showing it (134 for 70
 * messages with two tabs in a browser e2e). Per peer, one call at a time: the requests that
 * arrive while one is in flight wait and go as one call, with the highest `upToMessageId` asked,
 * as soon as it answers — N tabs asking together cost two calls, not N, and every request is still
 * followed by a call the server runs after it was made (a message stored late is not missed).
 * Four tabs, ten messages: 40 calls before, 20-21 after (`test/e2e/coordinated-read-calls-shared`).
 */
export class ReadMarker {
  readonly #markRead: (peerId: number, upToMessageId: number) => Promise<number>;
  readonly #lanes = new Map<number, Lane>();

  /** `markRead` makes the call and returns the unread count the server answered. */
  constructor(markRead: (peerId: number, upToMessageId: number) => Promise<number>) {
    this.#markRead = markRead;
  }

  /** Resolves with the unread count after a call covering `upToMessageId` has answered. */
  mark(peerId: number, upToMessageId: number): Promise<number> {
    let lane = this.#lanes.get(peerId);
    if (!lane) {
      lane = { running: null, queued: null };
      this.#lanes.set(peerId, lane);
    }
    // Queued first: between the call in flight settling and the queued one starting, it waits too.
    if (lane.queued) {
      lane.queued.upToMessageId = Math.max(lane.queued.upToMessageId, upToMessageId);
      return lane.queued.result;
    }
    if (!lane.running) return this.#start(peerId, lane, upToMessageId);
    const owner = lane;
    const startQueued = () => this.#startQueued(peerId, owner);
    // After the call in flight settles either way (its `finally` has cleared `running` by then).
    owner.queued = { upToMessageId, result: lane.running.then(startQueued, startQueued) };
    return owner.queued.result;
  }

  #startQueued(peerId: number, lane: Lane): Promise<number> {
    const { upToMessageId } = lane.queued!;
    lane.queued = null;
    return this.#start(peerId, lane, upToMessageId);
  }

  #start(peerId: number, lane: Lane, upToMessageId: number): Promise<number> {
    const running: Promise<number> = this.#markRead(peerId, upToMessageId).finally(() => {
      if (lane.running !== running) return;
      lane.running = null;
      if (!lane.queued) this.#lanes.delete(peerId);
    });
    lane.running = running;
    return running;
  }
}
