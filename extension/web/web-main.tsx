import { createRoot } from "react-dom/client";
import { SwitchboardClient, SwitchboardProvider, webPageTransport } from "../../shared/sdk/index.js";
import { ChatApp } from "../src/ui/chat-app.js";
import { ExtensionHint } from "../src/ui/extension-hint.js";
import "../src/ui/styles.css";
import { coordinatedClient } from "./coordinated-client.js";
import { startNaiveMode } from "./naive-mode.js";

/**
 * The extension's content script runs at `document_start` and marks the document before this
 * module runs: then the extension's worker is the hub and no tab holds a socket. Without it the
 * tabs of this origin coordinate: one elected tab holds the socket for all.
 */
function startWebApp(root: HTMLElement): void {
  const extension = document.documentElement.dataset.switchboardExtension !== undefined;
  const client = extension ? new SwitchboardClient(webPageTransport(window)) : coordinatedClient().client;
  document.documentElement.dataset.switchboardHome = extension ? "extension" : "coordinator";
  createRoot(root).render(
    <SwitchboardProvider client={client}>
      <ChatApp />
      {!extension && <ExtensionHint />}
    </SwitchboardProvider>,
  );
}

const root = document.getElementById("root") as HTMLElement;
if (new URLSearchParams(location.search).get("mode") === "naive") startNaiveMode(root);
else startWebApp(root);
