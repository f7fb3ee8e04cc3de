import WebSocket from "ws";
import { BEARER_PROTOCOL_PREFIX, ClientFrameType, SUBPROTOCOL, WS_PATH_PREFIX, type ServerFrame, type ServerFrameType } from "../../shared/protocol/index.js";

/** A load-generator chat socket: the token in the subprotocol, no compression, errors surface as `close`. */
export function openChatSocket(wsUrl: string, userId: number, token: string): WebSocket {
  const ws = new WebSocket(`${wsUrl}${WS_PATH_PREFIX}${userId}`, [SUBPROTOCOL, BEARER_PROTOCOL_PREFIX + token], { perMessageDeflate: false });
  ws.on("error", () => {});
  return ws;
}

/** Resolves on the next frame of `type`; rejects on timeout or if the socket closes first. */
export function untilFrame(ws: WebSocket, type: ServerFrameType, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      ws.off("message", onMessage);
      ws.off("close", onClose);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${type}`));
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      if ((JSON.parse(data.toString()) as ServerFrame).type !== type) return;
      done();
      resolve();
    };
    const onClose = (code: number, reason: Buffer) => {
      done();
      reject(new Error(`closed before ${type}: ${code} ${reason.toString()}`.trim()));
    };
    ws.on("message", onMessage);
    ws.once("close", onClose);
  });
}

/** What a fresh client sends after `welcome` (README "The protocol contract"): live events flow at once. */
export function sendFreshResume(ws: WebSocket): void {
  ws.send(JSON.stringify({ type: ClientFrameType.resume, epoch: "", seq: 0 }));
}
