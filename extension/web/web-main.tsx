import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { SwitchboardClient, SwitchboardProvider, webPageTransport } from "../../shared/sdk/index.js";
import { ChatApp } from "../src/ui/chat-app.js";
import { ExtensionHint } from "../src/ui/extension-hint.js";
import "../src/ui/styles.css";
import { announceExtension } from "../../shared/coordinator/coordinated-transport.js";
import { coordinatedClient } from "./coordinated-client.js";
import { startNaiveMode } from "./naive-mode.js";

interface Home {
  kind: "extension" | "coordinator";
  client: SwitchboardClient;
}

const timers = {
  setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as number),
};
const extensionMarked = () => document.documentElement.dataset.switchboardExtension !== undefined;

/** Calls `callback` once the extension's content script marks the document; returns the remover. */
function onExtensionMark(callback: () => void): () => void {
  // The mark may have come between the first check and now (the first render ran in between).
  if (extensionMarked()) {
    queueMicrotask(callback);
    return () => undefined;
  }
  const observer = new MutationObserver(() => {
    if (!extensionMarked()) return;
    observer.disconnect();
    callback();
  });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-switchboard-extension"] });
  return () => observer.disconnect();
}

function extensionHome(): Home {
  return { kind: "extension", client: new SwitchboardClient(webPageTransport(window)) };
}

function coordinatorHome(): Home {
  return { kind: "coordinator", client: coordinatedClient().client };
}

/**
 * The extension takes precedence. Its content script marks the document, but it loads
 * asynchronously, so the mark may come after this module ran: the tabs then start coordinating at
 * once (no waiting, no blank page), and a tab that sees the mark later switches to the extension
 * — a leader hands over silently (its socket closed as "Handed over", no state shown), so nobody
 * sees "Use here" when the extension's worker connects.
 */
function WebApp() {
  const [home, setHome] = useState<Home>(() => (extensionMarked() ? extensionHome() : coordinatorHome()));
  useEffect(() => {
    document.documentElement.dataset.switchboardHome = home.kind;
    // Tabs of this site opened before the extension was installed have no content script: tell them.
    if (home.kind === "extension") return announceExtension(timers);
    return onExtensionMark(() => {
      home.client.close(); // closes the coordinated transport: a leader hands over, silently
      setHome(extensionHome());
    });
  }, [home]);
  return (
    <SwitchboardProvider key={home.kind} client={home.client}>
      <ChatApp />
      {home.kind === "coordinator" && <ExtensionHint />}
    </SwitchboardProvider>
  );
}

const root = document.getElementById("root") as HTMLElement;
if (new URLSearchParams(location.search).get("mode") === "naive") startNaiveMode(root);
else createRoot(root).render(<WebApp />);
