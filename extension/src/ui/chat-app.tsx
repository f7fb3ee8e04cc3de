import { useState } from "react";
import { ConnectionState, useConnectionState } from "../../../shared/sdk/index.js";
import { ConnectionBanner } from "./connection-banner.js";
import { ConversationList } from "./conversation-list.js";
import { ConversationView } from "./conversation-view.js";
import { ProfilePanel } from "./profile-panel.js";
import { SignInForm } from "./sign-in-form.js";
import { UnreadCount } from "./unread-count.js";

/** The chat, the same in the extension's app page and in the web app. */
export function ChatApp() {
  const { state, user, signOut } = useConnectionState();
  // `?peer=` opens that conversation (a notification's click lands here).
  const [peerId, setPeerId] = useState<number | null>(() => initialPeer(location.search));
  const needsSignIn = state === ConnectionState.signedOut || state === ConnectionState.authRequired || (state !== undefined && !user);
  return (
    <div className="chat-app">
      <header>
        <h1>Switchboard</h1>
        <UnreadCount />
        {user && (
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        )}
      </header>
      <ConnectionBanner />
      {needsSignIn ? (
        <SignInForm />
      ) : (
        <main>
          <aside>
            <ProfilePanel />
            <ConversationList selected={peerId} onSelect={setPeerId} />
          </aside>
          {peerId === null ? <p className="muted">Pick someone to chat with.</p> : <ConversationView key={peerId} peerId={peerId} />}
        </main>
      )}
    </div>
  );
}

function initialPeer(search: string): number | null {
  const value = Number(new URLSearchParams(search).get("peer"));
  return Number.isInteger(value) && value > 0 ? value : null;
}
