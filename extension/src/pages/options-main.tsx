import { useEffect, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { SETTINGS_KEY, type Settings } from "../background/settings.js";
import { browser } from "../browser.js";
import { CONTENT_SCRIPT_ID } from "../background/content-script-registration.js";
import { buildDefaults } from "../build-config.js";
import { NOTIFICATIONS_KEY } from "../background/notifications.js";
import "../ui/styles.css";

/** Sets the server URL (stored in `storage.local`; the worker restarts its hub and signs out). */
function Options() {
  const [serverUrl, setServerUrl] = useState(buildDefaults.serverUrl);
  const [saved, setSaved] = useState(false);
  const matches = useContentScriptMatches();
  const [notifications, setNotifications] = useState(false);
  useEffect(() => {
    void browser.storage.local.get(NOTIFICATIONS_KEY).then((stored) => setNotifications(stored[NOTIFICATIONS_KEY] === true));
  }, []);
  const toggleNotifications = async (enabled: boolean) => {
    setNotifications(enabled);
    await browser.storage.local.set({ [NOTIFICATIONS_KEY]: enabled });
  };
  useEffect(() => {
    void browser.storage.local.get(SETTINGS_KEY).then((stored) => {
      const settings = stored[SETTINGS_KEY] as Partial<Settings> | undefined;
      if (settings?.serverUrl) setServerUrl(settings.serverUrl);
    });
  }, []);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const url = new URL(serverUrl); // throws on a bad URL: the browser shows the form's error
    const stored = ((await browser.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY] as Partial<Settings> | undefined) ?? {};
    await browser.storage.local.set({ [SETTINGS_KEY]: { ...stored, serverUrl: url.origin } });
    setSaved(true);
  };
  return (
    <form className="sign-in" onSubmit={save} data-testid="options">
      <h2>Switchboard server</h2>
      <input name="serverUrl" type="url" value={serverUrl} onChange={(e) => setServerUrl(e.target.value)} />
      <button type="submit">Save</button>
      <p className="muted">Changing the server signs you out. Sign in from the extension's popup or chat page.</p>
      {saved && <p data-testid="options-saved">Saved.</p>}
      <h2>Notifications</h2>
      <label>
        <input
          type="checkbox"
          name="notifications"
          data-testid="notifications-toggle"
          checked={notifications}
          onChange={(e) => void toggleNotifications(e.target.checked)}
        />{" "}
        Show a desktop notification for a new message when no Switchboard tab is in front
      </label>
      <h2>Pages the extension joins</h2>
      <p className="muted">
        Web-app pages at these addresses can read your messages and send as you through the extension. By default only the server's own web app; more only
        through the build setting <code>SWITCHBOARD_WEB_ORIGINS</code>.
      </p>
      <ul data-testid="content-script-matches">
        {matches.map((pattern) => (
          <li key={pattern}>{pattern}</li>
        ))}
      </ul>
    </form>
  );
}

/** What the content script is registered for right now (the worker re-registers it when the server URL changes). */
function useContentScriptMatches(): string[] {
  const [matches, setMatches] = useState<string[]>([]);
  useEffect(() => {
    const read = () =>
      void browser.scripting.getRegisteredContentScripts({ ids: [CONTENT_SCRIPT_ID] }).then((scripts) => setMatches(scripts[0]?.matches ?? []));
    read();
    // The worker registers again after a save; read again once it did.
    const onChanged = () => setTimeout(read, 250);
    browser.storage.local.onChanged.addListener(onChanged);
    return () => browser.storage.local.onChanged.removeListener(onChanged);
  }, []);
  return matches;
}

createRoot(document.getElementById("root") as HTMLElement).render(<Options />);
