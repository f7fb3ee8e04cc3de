import { useState, type FormEvent } from "react";
import { useProfile } from "../../../shared/sdk/index.js";

/** The profile from the hub's cache, with an edit form that PATCHes through the hub. */
export function ProfilePanel({ editable = true }: { editable?: boolean }) {
  const { profile, update } = useProfile();
  const [editing, setEditing] = useState(false);
  const [displayName, setDisplayName] = useState("");
  const [bio, setBio] = useState("");
  const [error, setError] = useState<string | null>(null);
  if (!profile)
    return (
      <div className="profile" data-testid="profile">
        No profile yet
      </div>
    );

  const startEdit = () => {
    setDisplayName(profile.displayName);
    setBio(profile.bio);
    setEditing(true);
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await update({ displayName, bio });
      setEditing(false);
      setError(null);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  return (
    <div className="profile" data-testid="profile">
      <strong data-testid="profile-name">{profile.displayName}</strong> <span className="muted">@{profile.username}</span>{" "}
      <span className="role" data-testid="profile-role">
        {profile.role}
      </span>
      {profile.bio && <p className="muted">{profile.bio}</p>}
      {editable && !editing && (
        <button type="button" data-testid="profile-edit" onClick={startEdit}>
          Edit profile
        </button>
      )}
      {editing && (
        <form data-testid="profile-form" onSubmit={save}>
          <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} placeholder="Display name" />
          <input name="bio" value={bio} onChange={(e) => setBio(e.target.value)} placeholder="Bio" />
          <button type="submit">Save</button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
          {error && <p className="error">{error}</p>}
        </form>
      )}
    </div>
  );
}
