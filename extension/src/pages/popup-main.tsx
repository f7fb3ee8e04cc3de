import { createRoot } from "react-dom/client";
import { SwitchboardProvider } from "../../../shared/sdk/index.js";
import { browser } from "../browser.js";
import { Popup } from "../ui/popup.js";
import "../ui/styles.css";
import { extensionPageClient } from "./extension-client.js";

const openChat = () => void browser.tabs.create({ url: browser.runtime.getURL("src/pages/app.html") });

createRoot(document.getElementById("root") as HTMLElement).render(
  <SwitchboardProvider client={extensionPageClient()}>
    <Popup onOpenChat={openChat} />
  </SwitchboardProvider>,
);
