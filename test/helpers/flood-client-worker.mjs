// A chat client on its own thread, for flood tests: writing thousands of frames from the test's
// own thread would stall that thread and show up as latency of whatever the test measures there.
// Plain JavaScript because worker threads load files without vitest's TypeScript transform.
// workerData: { url, protocols, hello (a frame sent on open), readyType (the frame type to wait for), frames }.
// Posts { received: string[], close: { code, reason } } once the socket closed.
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";

const { url, protocols, hello, readyType, frames } = workerData;
const received = [];
let flooded = false;
const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
ws.on("error", () => {});
ws.on("open", () => ws.send(hello));
ws.on("message", (data) => {
  const text = data.toString();
  received.push(text);
  if (!flooded && JSON.parse(text).type === readyType) {
    flooded = true;
    for (const frame of frames) ws.send(frame);
  }
});
ws.on("close", (code, reason) => parentPort.postMessage({ received, close: { code, reason: reason.toString() } }));
