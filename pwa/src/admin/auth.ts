/** Who is signed in to the console: the cookie session, its CSRF token, and whether a new password is due. */

import { signal } from "@preact/signals";

import { ApiError, get, post, request, setCsrfToken, setUnauthorizedHandler } from "./api";
import { isRole, type Role } from "./roles";

export interface Organiser {
  id: number;
  name: string;
  role: Role;
}

/** The body of login and me. */
export interface ConsoleSession {
  organiser: { id: number; name: string; role: string };
  csrfToken: string;
  mustChangePassword: boolean;
}

export type AuthState =
  | { state: "loading" }
  | { state: "signedOut"; notice: string | null }
  | { state: "signedIn"; organiser: Organiser; mustChangePassword: boolean };

export const auth = signal<AuthState>({ state: "loading" });
/** The password typed at sign-in while a new one is due: the "current password" of the change. */
let oneTimePassword: string | null = null;

export function knowsCurrentPassword(): boolean {
  return oneTimePassword !== null;
}

function accept(session: ConsoleSession): void {
  setCsrfToken(session.csrfToken);
  const role = isRole(session.organiser.role) ? session.organiser.role : "announcer";
  auth.value = { state: "signedIn", organiser: { ...session.organiser, role }, mustChangePassword: session.mustChangePassword };
}

function signedOut(notice: string | null): void {
  setCsrfToken(null);
  oneTimePassword = null;
  auth.value = { state: "signedOut", notice };
}

/** Ask the server who this browser is signed in as (on start). */
export async function loadSession(): Promise<void> {
  setUnauthorizedHandler(() => {
    if (auth.value.state === "signedIn") signedOut("Your session has ended. Sign in again to go on.");
  });
  try {
    accept(await request<ConsoleSession>("GET", "/api/admin/me", { expectUnauthorized: true }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signedOut(null);
    else signedOut(error instanceof ApiError ? error.detail : "The console could not start.");
  }
}

/** Sign in; a 401 (wrong name or password) or 429 is thrown for the form to show. */
export async function signIn(name: string, password: string): Promise<void> {
  const session = await post<ConsoleSession>("/api/admin/login", { name, password }, { expectUnauthorized: true });
  oneTimePassword = session.mustChangePassword ? password : null;
  accept(session);
}

export async function signOut(): Promise<void> {
  try {
    await post<void>("/api/admin/logout");
  } catch {
    // Signed out on this side either way; the cookie expires on the server.
  }
  signedOut("You have signed out.");
}

/** Set a new password; `current` defaults to the one typed at sign-in. */
export async function setPassword(newPassword: string, current?: string): Promise<void> {
  const currentPassword = current ?? oneTimePassword ?? "";
  await request<void>("POST", "/api/admin/password", { json: { currentPassword, newPassword }, expectUnauthorized: true });
  oneTimePassword = null;
  const state = auth.value;
  if (state.state === "signedIn") auth.value = { ...state, mustChangePassword: false };
  // The server may have renewed the session: take its current token.
  try {
    accept(await get<ConsoleSession>("/api/admin/me"));
  } catch {
    // Keep the session as it is.
  }
}
