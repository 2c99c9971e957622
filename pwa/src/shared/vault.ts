/**
 * The notebook keys on this device, and the device itself, without Yjs (the page and the service
 * worker use it alike): which key ids it holds (raw, in IndexedDB, to link another device and to
 * build keyrings; imported as non-extractable `CryptoKey`s to encrypt), its ECDH pair, its name
 * and id at the server, and the answers that change them (the first key, a rotated key in a sync
 * answer, the key a link brought in its fragment).
 */

import type { VaultKeys, DeviceMeta } from "./db";
import { apiRequest, fromBase64, toBase64, type ApiOptions } from "./private-api";
import { getPrivate, setPrivate, type Identity } from "./private-store";
import {
  deviceProof,
  importNotebookKey,
  newDeviceKeyPair,
  newRawKey,
  openKeyring,
  sealKeyring,
  unwrapKey,
  verifyProof,
  wrapKey,
} from "./vault-crypto";

export type { VaultKeys, DeviceMeta };

/** The current key and every older key this device holds, ready to encrypt and decrypt. */
export interface Vault {
  keyId: number;
  raw: Map<number, Uint8Array>;
  keys: Map<number, CryptoKey>;
}

/** The `key` field of a sync answer: the current key wrapped for this device (or not), and the keyring. */
export interface KeyAnswer {
  id: number;
  wrapped: string | null;
  keyring: string | null;
}

export interface DeviceInfo {
  id: string;
  name: string;
  linkedAt: string;
  lastSeenAt: string | null;
  current: boolean;
  publicKey: string | null;
  proof: string | null;
  keyId: number | null;
}

async function toVault(stored: VaultKeys): Promise<Vault> {
  const raw = new Map(Object.entries(stored.keys).map(([id, key]) => [Number(id), key] as const));
  const keys = new Map<number, CryptoKey>();
  for (const [id, key] of raw) keys.set(id, await importNotebookKey(key));
  return { keyId: stored.keyId, raw, keys };
}

/** The keys this device holds, or null when it holds none (yet, or any more). */
export async function loadVault(): Promise<Vault | null> {
  const stored = await getPrivate("vault");
  return stored && stored.keyId >= 1 && stored.keys[stored.keyId] ? toVault(stored) : null;
}

async function saveVault(keyId: number, raw: ReadonlyMap<number, Uint8Array>): Promise<Vault> {
  const keys: Record<number, Uint8Array> = {};
  for (const [id, key] of raw) keys[id] = key;
  const stored = { keyId, keys };
  await setPrivate("vault", stored);
  await setPrivate("vaultLocked", false);
  return toVault(stored);
}

/** Hold `raw` as key `keyId` (from a link's fragment), keeping older keys this device has. */
export async function adoptKey(keyId: number, raw: Uint8Array): Promise<Vault> {
  return saveVault(keyId, new Map([[keyId, raw]]));
}

/** A name for this device from its browser, e.g. "Chrome on Android" (the attendee may change it). */
export function defaultDeviceName(userAgent = globalThis.navigator?.userAgent ?? ""): string {
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : "Browser";
  const system = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad/.test(userAgent)
      ? "iOS"
      : /Mac OS X/.test(userAgent)
        ? "macOS"
        : /Windows/.test(userAgent)
          ? "Windows"
          : /Linux/.test(userAgent)
            ? "Linux"
            : "";
  return system ? `${browser} on ${system}` : browser;
}

/** This device's key pair and name, made on first use. */
export async function deviceMeta(): Promise<DeviceMeta> {
  const known = await getPrivate("device");
  if (known) return known;
  const pair = await newDeviceKeyPair();
  const made: DeviceMeta = { id: null, name: defaultDeviceName(), privateKey: pair.privateKey, publicRaw: pair.publicRaw, proofKeyId: 0 };
  await setPrivate("device", made);
  return made;
}

/** What a new attendee or a link registers for this device. */
export async function deviceRegistration(): Promise<{ name: string; publicKey: string }> {
  const device = await deviceMeta();
  return { name: device.name, publicKey: toBase64(device.publicRaw) };
}

export async function rememberDeviceId(id: string | undefined): Promise<void> {
  if (!id) return;
  const device = await deviceMeta();
  await setPrivate("device", { ...device, id, proofKeyId: 0 });
}

export async function listDevices(identity: Identity, options: ApiOptions = {}): Promise<DeviceInfo[]> {
  const devices = await apiRequest<DeviceInfo[]>("GET", "/api/attendees/me/devices", { ...options, token: identity.token });
  const current = devices.find((device) => device.current);
  if (current) {
    const device = await deviceMeta();
    if (device.id !== current.id) await setPrivate("device", { ...device, id: current.id });
  }
  await setPrivate("linkedDevices", devices.length);
  return devices;
}

async function deviceId(identity: Identity, options: ApiOptions): Promise<string> {
  const device = await deviceMeta();
  if (device.id) return device.id;
  const current = (await listDevices(identity, options)).find((each) => each.current);
  if (!current) throw new Error("the server does not list this device");
  return current.id;
}

/**
 * Register this device's name, public key and proof (under the current key) unless done already:
 * devices that predate encrypted notes, and every device after it got a key.
 */
export async function registerDevice(identity: Identity, vault: Vault, options: ApiOptions = {}, name?: string): Promise<void> {
  const device = await deviceMeta();
  if (device.proofKeyId === vault.keyId && device.id && name === undefined) return;
  const proof = await deviceProof(vault.raw.get(vault.keyId)!, vault.keyId, device.publicRaw);
  const answer = await apiRequest<DeviceInfo>("PATCH", "/api/attendees/me/device", {
    ...options,
    token: identity.token,
    body: { name: name ?? device.name, publicKey: toBase64(device.publicRaw), proof: toBase64(proof) },
  });
  await setPrivate("device", { ...device, id: answer?.id ?? device.id, name: name ?? device.name, proofKeyId: vault.keyId });
}

/**
 * The first device of an attendee makes key 1 and registers it (wrapped for itself). Null when the
 * server has a key already (another device was first): this device must then be linked again.
 */
export async function createFirstKey(identity: Identity, options: ApiOptions = {}): Promise<Vault | null> {
  const device = await deviceMeta();
  const id = await deviceId(identity, options);
  const raw = newRawKey();
  const wrapped = await wrapKey(device.publicRaw, raw, 1);
  try {
    await apiRequest("POST", "/api/attendees/me/keys", {
      ...options,
      token: identity.token,
      body: { keyId: 1, previous: 0, keyring: null, wrapped: [{ deviceId: id, key: toBase64(wrapped) }] },
    });
  } catch (error) {
    if ((error as { status?: number }).status === 409) {
      await setPrivate("vaultLocked", true);
      return null;
    }
    throw error;
  }
  const vault = await saveVault(1, new Map([[1, raw]]));
  await registerDevice(identity, vault, options);
  return vault;
}

/**
 * Take the key a sync answer carries: unwrap the current key if it was wrapped for this device
 * (or hold it already from a link), and add the keyring's older keys. Without the current key this
 * device can read what it has but not write: it is locked until linked again.
 */
export async function acceptKey(answer: KeyAnswer, vault: Vault | null): Promise<Vault | null> {
  const raw = new Map(vault?.raw ?? []);
  if (!raw.has(answer.id)) {
    const device = await getPrivate("device");
    if (!answer.wrapped || !device) {
      await setPrivate("vaultLocked", true);
      return null;
    }
    try {
      raw.set(answer.id, await unwrapKey(device.privateKey, fromBase64(answer.wrapped), answer.id));
    } catch {
      await setPrivate("vaultLocked", true);
      return null;
    }
  }
  if (answer.keyring) {
    const current = new Map([[answer.id, await importNotebookKey(raw.get(answer.id)!)]]);
    for (const [id, key] of await openKeyring(current, fromBase64(answer.keyring), fromBase64)) if (!raw.has(id)) raw.set(id, key);
  }
  return saveVault(answer.id, raw);
}

/** Whether a listed device proved it holds one of the keys this device holds. */
export async function deviceVerified(vault: Vault | null, device: DeviceInfo): Promise<boolean> {
  if (!vault || !device.publicKey || !device.proof) return false;
  try {
    return await verifyProof(vault.raw, fromBase64(device.publicKey), fromBase64(device.proof));
  } catch {
    return false;
  }
}

/**
 * Revoke another device: its token stops at once, and a new key (n+1) replaces the current one,
 * wrapped for every remaining device whose proof verifies; the keyring carries every older key.
 */
export async function revokeDevice(identity: Identity, revoked: string, options: ApiOptions = {}): Promise<Vault | null> {
  const vault = await loadVault();
  if (!vault) {
    await apiRequest<void>("POST", `/api/attendees/me/devices/${encodeURIComponent(revoked)}/revoke`, {
      ...options,
      token: identity.token,
      body: { rotation: null },
    });
    return null;
  }
  const devices = await listDevices(identity, options);
  const keyId = vault.keyId + 1;
  const raw = newRawKey();
  const wrapped: { deviceId: string; key: string }[] = [];
  for (const device of devices) {
    if (device.id === revoked || !device.publicKey || !(await deviceVerified(vault, device))) continue;
    wrapped.push({ deviceId: device.id, key: toBase64(await wrapKey(fromBase64(device.publicKey), raw, keyId)) });
  }
  const current = await importNotebookKey(raw);
  const keyring = await sealKeyring(current, keyId, vault.raw, toBase64);
  await apiRequest<void>("POST", `/api/attendees/me/devices/${encodeURIComponent(revoked)}/revoke`, {
    ...options,
    token: identity.token,
    body: { rotation: { keyId, previous: vault.keyId, keyring: toBase64(keyring), wrapped } },
  });
  const next = await saveVault(keyId, new Map([...vault.raw, [keyId, raw]]));
  await registerDevice(identity, next, options);
  return next;
}

/** Give this device another name (shown in every device's list). */
export async function renameDevice(identity: Identity, name: string, options: ApiOptions = {}): Promise<void> {
  const vault = await loadVault();
  if (vault) {
    await registerDevice(identity, vault, options, name);
    return;
  }
  const device = await deviceMeta();
  await apiRequest("PATCH", "/api/attendees/me/device", { ...options, token: identity.token, body: { name } });
  await setPrivate("device", { ...device, name });
}
