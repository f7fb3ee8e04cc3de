import { useSyncExternalStore } from "react";

const subscribe = (onChange: () => void) => {
  document.addEventListener("visibilitychange", onChange);
  return () => document.removeEventListener("visibilitychange", onChange);
};
const isVisible = () => document.visibilityState === "visible";

/** Whether the page is shown now (`document.visibilityState`), re-rendering when that changes. */
export function usePageVisible(): boolean {
  return useSyncExternalStore(subscribe, isVisible);
}
