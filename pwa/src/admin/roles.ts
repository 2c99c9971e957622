/**
 * What each organiser role may do in the console, mirroring the server's permissions
 * (`server/services/auth.py`): the console never offers what the server would refuse.
 */

export type Role = "admin" | "editor" | "announcer" | "volunteer";

/** The console's areas, in navigation order. */
export type Area =
  | "programme"
  | "import"
  | "source"
  | "announcements"
  | "room-status"
  | "feedback"
  | "history"
  | "organisers";

const AREAS: Record<Role, readonly Area[]> = {
  admin: ["programme", "import", "source", "announcements", "room-status", "feedback", "history", "organisers"],
  editor: ["programme", "import", "source", "feedback", "history"],
  announcer: ["announcements", "history"],
  /** Door staff: a room's status, nothing else (they land on it after sign-in). */
  volunteer: ["room-status"],
};

export function isRole(value: unknown): value is Role {
  return value === "admin" || value === "editor" || value === "announcer" || value === "volunteer";
}

/** The areas a role may open, in navigation order (an unknown role gets the history only). */
export function areasFor(role: string): readonly Area[] {
  return isRole(role) ? AREAS[role] : ["history"];
}

export function may(role: string, area: Area): boolean {
  return areasFor(role).includes(area);
}

/** Whether a role may reveal an anonymous speaker or loosen a recording policy (never a side effect of an edit). */
export function mayLoosenPrivacy(role: string): boolean {
  return role === "admin";
}

/** What a role is for, in one line (shown beside the organiser's name and when adding one). */
export const ROLE_TEXT: Record<Role, string> = {
  admin: "Admin: everything, including organisers",
  editor: "Editor: programme and import",
  announcer: "Announcer: announcements",
  volunteer: "Volunteer: room status at the door, nothing else",
};
