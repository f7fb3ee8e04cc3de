import { ServerFrameType, type ServerFrame } from "../../../shared/protocol/index.js";
import { eventJson, messageJson } from "../realtime/event-json.js";

/**
 * A server frame's JSON text, the same as `JSON.stringify(frame)`, except that the event of an
 * `event` frame and the message of an `ack` are not serialized again when their JSON was already
 * made (for the history, or for the other side's frame).
 */
export function frameJson(frame: ServerFrame): string {
  if (frame.type === ServerFrameType.event) {
    return `{"type":"${ServerFrameType.event}","seq":${frame.seq},"epoch":${JSON.stringify(frame.epoch)},"event":${eventJson(frame.event)}}`;
  }
  if (frame.type === ServerFrameType.ack && frame.message !== undefined) {
    return `{"type":"${ServerFrameType.ack}","clientMsgId":${JSON.stringify(frame.clientMsgId)},"messageId":${frame.messageId},"message":${messageJson(frame.message)}}`;
  }
  return JSON.stringify(frame);
}
