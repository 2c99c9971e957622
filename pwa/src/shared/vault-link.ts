/**
 * Linking this device to another device's notebook, with the key the link carried in its fragment:
 * whose notebook a code opens (without using it), and the link itself.
 */

import { apiRequest, normaliseCode, toBase64, type ApiOptions } from "./private-api";
import { adoptIdentity, clearDocuments, setPrivate, type Identity } from "./private-store";
import { adoptKey, deviceMeta, deviceRegistration } from "./vault";
import { deviceProof } from "./vault-crypto";

/** Whose notebook a link code opens: its devices, and how many documents it holds (the code stays unused). */
export interface LinkPreview {
  devices: { name: string; linkedAt: string; lastSeenAt: string | null }[];
  documents: number;
}

export async function previewLink(code: string, options: ApiOptions = {}): Promise<LinkPreview> {
  return apiRequest<LinkPreview>("POST", "/api/attendees/link/preview", { ...options, body: { code: normaliseCode(code) } });
}

/**
 * Become the attendee of another device, with the notebook key its link carried. With `keepDocs`
 * this device's documents are sent into that notebook in full; without, they are dropped here
 * (they stay with the identity left behind, synced there first by the caller, and remembered).
 */
export async function linkWithCode(
  code: string,
  key: { keyId: number; raw: Uint8Array },
  keepDocs: boolean,
  options: ApiOptions = {},
): Promise<Identity> {
  const device = await deviceMeta();
  const proof = await deviceProof(key.raw, key.keyId, device.publicRaw);
  const linked = await apiRequest<Identity & { deviceId?: string }>("POST", "/api/attendees/link", {
    ...options,
    body: { code: normaliseCode(code), ...(await deviceRegistration()), proof: toBase64(proof) },
  });
  if (!keepDocs) {
    await clearDocuments();
  }
  await adoptIdentity({ attendeeId: linked.attendeeId, token: linked.token });
  await adoptKey(key.keyId, key.raw);
  const registered = await deviceMeta();
  await setPrivate("device", { ...registered, id: linked.deviceId ?? null, proofKeyId: key.keyId });
  // The link carried the current key only: the first sync asks for the keyring of older keys.
  await setPrivate("wantKeyring", key.keyId > 1);
  return { attendeeId: linked.attendeeId, token: linked.token };
}

