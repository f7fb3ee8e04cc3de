import { useUnreadCount } from "../../../shared/sdk/index.js";

/** Its own component: an unread change re-renders this line, not the whole app. */
export function UnreadCount({ as: Tag = "span" }: { as?: "span" | "p" }) {
  const unread = useUnreadCount() ?? 0;
  return (
    <Tag className="unread" data-testid="unread-count" data-count={unread}>
      {unread} unread
    </Tag>
  );
}
