import { useEffect, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { SETTINGS_KEY, type Settings } from "../background/settings.js";
import { browser } from "../browser.js";
import { buildDefaults } from "../build-config.js";
import "../ui/styles.css";

/** Sets the server URL (stored in `storage.local`; the worker restarts its hub and signs out). */
function Options() {
  const [serverUrl, setServerUrl] = useState(buildDefaults.serverUrl);
  const [saved, setSaved] = useState(false);
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
    </form>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(<Options />);
