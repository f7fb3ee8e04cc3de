import {
  BEARER_PROTOCOL_PREFIX,
  CloseCode,
  EventKind,
  parseServerFrame,
  RestPath,
  ServerFrameType,
  SUBPROTOCOL,
  WS_PATH_PREFIX,
  type LoginResponse,
} from "../../shared/protocol/index.js";
import { NAIVE_AUTH_KEY } from "../../shared/sdk/naive-baseline.js";

/**
 * The OLD app's behaviour, kept only as the baseline of `npm run bench:tabs` (`/?mode=naive`):
 * every tab opens its own socket, reconnects 5 s after any close that is not 1000, and polls the
 * profile every 60 s with a cache-buster, as the old app did. Never used by the real web app.
 */
const RECONNECT_MS = 5000;
const PROFILE_POLL_MS = 60_000;

export function startNaiveMode(root: HTMLElement): void {
  const stored = localStorage.getItem(NAIVE_AUTH_KEY);
  if (!stored) {
    root.textContent = `naive mode: put a LoginResponse into localStorage["${NAIVE_AUTH_KEY}"] and reload`;
    return;
  }
  const auth = JSON.parse(stored) as LoginResponse;
  const list = document.createElement("ol");
  list.dataset.testid = "messages";
  root.append(list);
  const headers = { authorization: `Bearer ${auth.accessToken}` };
  const pollProfile = () => void fetch(`${RestPath.profileMe}?_t=${Date.now()}`, { headers, cache: "no-store" });
  pollProfile();
  setInterval(pollProfile, PROFILE_POLL_MS);

  const connect = () => {
    const url = `${location.origin.replace(/^http/, "ws")}${WS_PATH_PREFIX}${auth.user.id}`;
    const socket = new WebSocket(url, [SUBPROTOCOL, BEARER_PROTOCOL_PREFIX + auth.accessToken]);
    socket.onmessage = (event) => {
      const parsed = parseServerFrame(String(event.data));
      if (!parsed.ok || parsed.frame.type !== ServerFrameType.event || parsed.frame.event.kind !== EventKind.message) return;
      const item = document.createElement("li");
      item.textContent = parsed.frame.event.message.body;
      list.append(item);
    };
    // The old rule: anything but 1000 is abnormal → reconnect after 5 s.
    socket.onclose = (event) => {
      if (event.code !== CloseCode.normal) setTimeout(connect, RECONNECT_MS);
    };
  };
  connect();
}
