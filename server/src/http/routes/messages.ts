import { Router } from "express";
import {
  RestErrorCode,
  RestPath,
  type ConversationsResponse,
  type MessagesResponse,
  type SendMessageResponse,
  type UnreadCountResponse,
} from "../../../../shared/protocol/index.js";
import type { TokenService } from "../../auth/tokens.js";
import { RecipientNotFoundError, type MessageService } from "../../services/message-service.js";
import type { Store } from "../../store/store.js";
import { authenticate, principal } from "../authenticate.js";
import { sendError } from "../errors.js";
import { ListMessagesQuery, ReadBody, SendMessageBody, parse } from "../validate.js";

export interface MessageRouteDeps {
  store: Store;
  tokens: TokenService;
  messages: MessageService;
}

/** History, conversations, the unread count, sending and marking read. */
export function messageRoutes({ store, tokens, messages }: MessageRouteDeps): Router {
  const router = Router();
  const signedIn = authenticate(tokens);

  router.get(RestPath.unreadCount, signedIn, async (req, res) => {
    // From the auth principal only: no profile needed.
    const body: UnreadCountResponse = { unread_count: await store.unreadCount(principal(req).userId) };
    res.json(body);
  });

  router.get(RestPath.conversations, signedIn, async (req, res) => {
    const body: ConversationsResponse = { conversations: await store.conversations(principal(req).userId) };
    res.json(body);
  });

  router.get(RestPath.messages, signedIn, async (req, res) => {
    const query = parse(ListMessagesQuery, req.query);
    const body: MessagesResponse = {
      messages: await store.listMessages(principal(req).userId, query.peerId, { before: query.before, limit: query.limit }),
    };
    res.json(body);
  });

  router.post(RestPath.messages, signedIn, async (req, res) => {
    const request = parse(SendMessageBody, req.body);
    try {
      const { message, created } = await messages.send(principal(req).userId, request.to, request.body, request.clientMsgId ?? null);
      const body: SendMessageResponse = { message };
      res.status(created ? 201 : 200).json(body);
    } catch (error) {
      if (error instanceof RecipientNotFoundError) return sendError(res, 404, RestErrorCode.notFound, error.message);
      throw error;
    }
  });

  router.post(RestPath.messagesRead, signedIn, async (req, res) => {
    const request = parse(ReadBody, req.body);
    const body: UnreadCountResponse = { unread_count: await messages.markRead(principal(req).userId, request.peerId, request.upToMessageId) };
    res.json(body);
  });

  return router;
}
