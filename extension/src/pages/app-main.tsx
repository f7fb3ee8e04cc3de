import { createRoot } from "react-dom/client";
import { SwitchboardProvider } from "../../../shared/sdk/index.js";
import { ChatApp } from "../ui/chat-app.js";
import "../ui/styles.css";
import { extensionPageClient } from "./extension-client.js";

createRoot(document.getElementById("root") as HTMLElement).render(
  <SwitchboardProvider client={extensionPageClient()}>
    <ChatApp />
  </SwitchboardProvider>,
);
