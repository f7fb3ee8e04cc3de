import WebSocket from "ws";
import {
  BEARER_PROTOCOL_PREFIX,
  ClientFrameType,
  resumeProtocol,
  SUBPROTOCOL,
  ServerFrameType,
  WS_PATH_PREFIX,
  type ServerFrame,
} from "../../shared/protocol/index.js";

/** The subprotocols of a fresh client: the token, and nothing to resume (`resume..0`), as the hub offers them. */
export function freshClientProtocols(token: string): string[] {
  return [SUBPROTOCOL, BEARER_PROTOCOL_PREFIX + token, resumeProtocol({ epoch: "", seq: 0 })!];
}

/** A load-generator chat socket: the token in the subprotocol, no compression, errors surface as `close`. */
export function openChatSocket(wsUrl: string, userId: number, token: string): WebSocket {
  const ws = new WebSocket(`${wsUrl}${WS_PATH_PREFIX}${userId}`, freshClientProtocols(token), { perMessageDeflate: false });
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

/** The `resume` frame of a client with nothing to resume, for a server that did not take the upgrade's entry. */
export const FRESH_RESUME_FRAME = JSON.stringify({ type: ClientFrameType.resume, epoch: "", seq: 0 });

/**
 * Resolves once live events flow (`resumed`): the upgrade's `resume..0` is taken by this build;
 * a build that does not know it (an A/B's older server) gets the `resume` frame after its `welcome`.
 */
export function untilLive(ws: WebSocket, timeoutMs = 15_000): Promise<void> {
  const onWelcome = (data: WebSocket.RawData) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    if (frame.type !== ServerFrameType.welcome) return;
    ws.off("message", onWelcome);
    if (!frame.resuming) ws.send(FRESH_RESUME_FRAME);
  };
  ws.on("message", onWelcome);
  return untilFrame(ws, ServerFrameType.resumed, timeoutMs).finally(() => ws.off("message", onWelcome));
}
