import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { SwitchboardClient, SwitchboardProvider, webPageTransport } from "../../shared/sdk/index.js";
import { ChatApp } from "../src/ui/chat-app.js";
import { ExtensionNeeded } from "../src/ui/extension-needed.js";
import "../src/ui/styles.css";
import { startNaiveMode } from "./naive-mode.js";

/** How long the page waits for the extension's content script to answer before saying it is needed. */
const EXTENSION_WAIT_MS = 2000;

function WebApp() {
  const [client] = useState(() => new SwitchboardClient(webPageTransport(window)));
  const [found, setFound] = useState<boolean | null>(null);
  useEffect(() => {
    // The content script marks the document as soon as it runs: then the extension is there, only slow to answer.
    const present = () => document.documentElement.dataset.switchboardExtension !== undefined;
    const timer = setTimeout(() => setFound((current) => current ?? (present() ? null : false)), EXTENSION_WAIT_MS);
    void client.ready().then(() => setFound(true));
    return () => clearTimeout(timer);
  }, [client]);
  if (found === false) return <ExtensionNeeded />;
  return (
    <SwitchboardProvider client={client}>
      <ChatApp />
    </SwitchboardProvider>
  );
}

const root = document.getElementById("root") as HTMLElement;
if (new URLSearchParams(location.search).get("mode") === "naive") startNaiveMode(root);
else createRoot(root).render(<WebApp />);
