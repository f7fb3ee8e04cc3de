import useSWR from "swr";
import type { Profile } from "../protocol/index.js";
import { TabRequestKind, type ProfilePatch } from "./hub-messages.js";
import { useSwitchboardClient } from "./provider.js";
import { SwrKey } from "./swr-keys.js";

/** The user's profile from the hub's cache (never fetched by the tab) and a PATCH through the hub. */
export function useProfile() {
  const client = useSwitchboardClient();
  const { data, mutate } = useSWR<Profile | null>(SwrKey.profile, () => client.ready().then((s) => s.profile));
  return {
    profile: data ?? null,
    update: async (patch: ProfilePatch) => {
      const profile = await client.request(TabRequestKind.updateProfile, patch);
      await mutate(profile, { revalidate: false });
      return profile;
    },
  };
}
