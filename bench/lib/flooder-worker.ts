/**
 * One user flooding the server, on its own thread so that writing 10,000 frames does not stall
 * the bench's main thread (which times the other users' deliveries). It behaves like a hostile
 * script: `burst` send frames at once on every connect, and after the server closes the socket (or
 * refuses the upgrade during the cooldown) it reconnects after 100 ms, until told to stop.
 * workerData: { wsUrl, userId, token, to, burst }. Posts { connects, framesSent, acks, refused, closes } when stopped.
 */
import { parentPort, workerData } from "node:worker_threads";
import type WebSocket from "ws";
import { ClientFrameType, FrameErrorCode, ServerFrameType, type ServerFrame } from "../../shared/protocol/index.js";
import { openChatSocket } from "./chat-socket.js";

/**
 * Far shorter than the 10 s the server asks for after 4029, but not a busy loop: the attacker's
 * CPU is elsewhere in real life, here it would share this machine's 2 cores with the server.
 */
const RECONNECT_DELAY_MS = 100;

const { wsUrl, userId, token, to, burst } = workerData as { wsUrl: string; userId: number; token: string; to: number; burst: number };
const totals = { connects: 0, framesSent: 0, acks: 0, refused: 0, closes: {} as Record<string, number> };
let stopping = false;
let current: WebSocket | null = null;
let round = 0;

function floodOnce(): void {
  if (stopping) return;
  const ws = openChatSocket(wsUrl, userId, token);
  current = ws;
  totals.connects += 1;
  round += 1;
  ws.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    if (frame.type === ServerFrameType.welcome) {
      for (let i = 0; i < burst; i++) {
        ws.send(JSON.stringify({ type: ClientFrameType.send, clientMsgId: `flood-${round}-${i}`, to, body: "flood" }));
      }
      totals.framesSent += burst;
    } else if (frame.type === ServerFrameType.ack) totals.acks += 1;
    else if (frame.type === ServerFrameType.error && frame.code === FrameErrorCode.rateLimited) totals.refused += 1;
  });
  ws.once("close", (code) => {
    totals.closes[code] = (totals.closes[code] ?? 0) + 1;
    if (!stopping) setTimeout(floodOnce, RECONNECT_DELAY_MS);
  });
}

parentPort!.on("message", (message: string) => {
  if (message !== "stop") return;
  stopping = true;
  current?.terminate();
  setTimeout(() => parentPort!.postMessage(totals), 100);
});
floodOnce();
