import { BroadcastChannel, createLeaderElection, type LeaderElector } from "broadcast-channel";
import { ELECTION_CHANNEL_NAME } from "./coordinator-messages.js";

/**
 * The second lock every leader takes — by stealing it, so the newest leader always holds it. A
 * leader whose copy is stolen hears it as the rejection of its own request (a frozen tab when it
 * thaws): that is how a former leader learns it lost, whatever the election library saw.
 */
const TERM_LOCK_NAME = "switchboard-leader-term";

export interface LeadershipDeps {
  /** `navigator.locks`, or undefined where the browser has no Web Locks (then no steal, no term lock). */
  locks: LockManager | undefined;
  /** Became leader (elected, or by taking over). */
  onLead: () => void;
  /** Lost the lead without choosing to (another tab took over). */
  onLost: () => void;
  log: (message: string) => void;
}

interface Candidacy {
  channel: BroadcastChannel;
  elector: LeaderElector;
  /** Releases the locks this candidacy holds by its own requests (steal, term). */
  releases: Array<() => void>;
}

/**
 * Leader election among the origin's tabs: `broadcast-channel`'s `createLeaderElection` (Web
 * Locks where the browser has them, its own message protocol elsewhere), plus what it lacks: a
 * takeover from a leader that holds the lock but is frozen (`steal`), and a way for that leader
 * to find out (the term lock). Each candidacy has its own channel, because an elector cannot
 * stand again after it lost or stepped down.
 */
export class Leadership {
  readonly #deps: LeadershipDeps;
  #candidacy: Candidacy | null = null;
  #leading = false;

  constructor(deps: LeadershipDeps) {
    this.#deps = deps;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Whether this tab is in the election (false after `stepDown(false)`, until `stand()`). */
  get isStanding(): boolean {
    return this.#candidacy !== null;
  }

  /** Join the election; `onLead` runs when this tab wins. */
  stand(): void {
    if (this.#candidacy) return;
    const channel = new BroadcastChannel(ELECTION_CHANNEL_NAME);
    const elector = createLeaderElection(channel);
    const candidacy: Candidacy = { channel, elector, releases: [] };
    this.#candidacy = candidacy;
    elector.awaitLeadership().then(
      () => void this.#won(candidacy),
      (error: unknown) => this.#deps.log(`election failed: ${String(error)}`),
    );
  }

  /** Whether a leader holds the election lock (false where there are no Web Locks: the library's fallback handles dead leaders). */
  async leaderHeld(): Promise<boolean> {
    if (!this.#deps.locks || !this.#candidacy) return false;
    const state = await this.#deps.locks.query();
    return (state.held ?? []).some((lock) => lock.name === this.#lockName(this.#candidacy!));
  }

  /** Take the lead from a silent leader (Web Locks `steal`). */
  async takeOver(): Promise<void> {
    const candidacy = this.#candidacy;
    const locks = this.#deps.locks;
    if (!candidacy || !locks || this.#leading) return;
    this.#deps.log("leader silent: taking over");
    await this.#hold(candidacy, this.#lockName(candidacy), { steal: true });
    if (this.#candidacy === candidacy) await this.#won(candidacy);
  }

  /**
   * Still the leader? Asks the lock manager, so a rejection it sent while this tab was frozen has
   * arrived before the answer. Call before anything a stale leader must not do (open a socket).
   */
  async confirm(): Promise<boolean> {
    if (!this.#leading) return false;
    if (this.#deps.locks) await this.#deps.locks.query();
    return this.#leading;
  }

  /** Leave the lead (and the election) on purpose; `again`: stand for the next election. */
  async stepDown(again: boolean): Promise<void> {
    const candidacy = this.#candidacy;
    this.#candidacy = null;
    this.#leading = false;
    if (candidacy) await this.#retire(candidacy);
    if (again) this.stand();
  }

  async #won(candidacy: Candidacy): Promise<void> {
    if (this.#candidacy !== candidacy || this.#leading) return;
    if (this.#deps.locks) await this.#hold(candidacy, TERM_LOCK_NAME, { steal: true });
    if (this.#candidacy !== candidacy) return;
    this.#leading = true;
    this.#deps.onLead();
  }

  /** Hold `name` by this candidacy's own request until it retires; a steal by another tab → lost. */
  #hold(candidacy: Candidacy, name: string, options: LockOptions): Promise<void> {
    const locks = this.#deps.locks!;
    return new Promise<void>((granted) => {
      locks
        .request(name, options, () => {
          granted();
          return new Promise<void>((release) => candidacy.releases.push(release));
        })
        .catch((error: unknown) => {
          granted();
          if (this.#candidacy !== candidacy) return; // retired already: nothing to lose
          this.#deps.log(`lost ${name} (${error instanceof Error ? error.name : String(error)})`);
          this.#candidacy = null;
          const wasLeading = this.#leading;
          this.#leading = false;
          void this.#retire(candidacy).then(() => {
            if (wasLeading) this.#deps.onLost();
            this.stand();
          });
        });
    });
  }

  async #retire(candidacy: Candidacy): Promise<void> {
    for (const release of candidacy.releases.splice(0)) release();
    await candidacy.elector.die().catch(() => undefined);
    await candidacy.channel.close().catch(() => undefined);
  }

  #lockName(candidacy: Candidacy): string {
    // The library's lock name (leader-election-web-lock.js): 'pubkey-bc||' + method + '||' + channel name.
    const method = (candidacy.channel as unknown as { method: { type: string } }).method.type;
    return `pubkey-bc||${method}||${ELECTION_CHANNEL_NAME}`;
  }
}
