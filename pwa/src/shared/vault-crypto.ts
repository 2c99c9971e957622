/**
 * The notebook's cryptography (vault contract, sync/PROTOCOL.md): WebCrypto only, nothing written
 * by hand. Notebook keys are AES-GCM 256 identified by an integer key id; every stored frame is
 * `1 || keyId (uint32 BE) || nonce (12 random bytes) || AES-GCM ciphertext+tag`, bound by its AAD to
 * one document and one kind. Devices hold an ECDH P-256 pair to receive a rotated key (wrapped for
 * them), and prove membership with an HMAC of their public key under the notebook key.
 */

export const FRAME_VERSION = 1;
export const FRAME_HEADER = 17;
export const MIN_FRAME = FRAME_HEADER + 16;
const NONCE = 12;
const RAW_KEY = 32;
const PUBLIC_RAW = 65;

export type FrameKind = "update" | "snapshot";

const encoder = new TextEncoder();
const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/** The frame refused: too short, unknown format, a key this device does not hold, or it does not authenticate. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/** Copy into a fresh ArrayBuffer-backed array (WebCrypto takes no views onto shared or odd buffers). */
function bytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(data.length);
  copy.set(data);
  return copy;
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

function readUint32(data: Uint8Array, at: number): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(at, false);
}

/** A fresh notebook key, as raw bytes (kept to link devices and build keyrings). */
export function newRawKey(): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(RAW_KEY));
}

/** The AES-GCM key for frames: not extractable. */
export function importNotebookKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== RAW_KEY) throw new FrameError(`a notebook key has ${RAW_KEY} bytes, not ${raw.length}`);
  return subtle().importKey("raw", bytes(raw), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** The AAD of a note or agenda frame: it binds the frame to its document and kind. */
export function vaultAad(docId: string, kind: FrameKind): string {
  return `kumpul-vault/1|${docId}|${kind}`;
}

export const KEYRING_AAD = "kumpul-keyring/1";

/** Encrypt `plaintext` into a frame under key `keyId`, with a fresh random nonce. */
export async function sealFrame(key: CryptoKey, keyId: number, aad: string, plaintext: Uint8Array): Promise<Uint8Array> {
  if (!Number.isInteger(keyId) || keyId < 1 || keyId > 0xffffffff) throw new FrameError(`bad key id ${keyId}`);
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE));
  const sealed = await subtle().encrypt({ name: "AES-GCM", iv: nonce, additionalData: encoder.encode(aad) }, key, bytes(plaintext));
  return concat(new Uint8Array([FRAME_VERSION]), uint32(keyId), nonce, new Uint8Array(sealed));
}

/** The key id a frame says it is encrypted under. */
export function frameKeyId(frame: Uint8Array): number {
  if (frame.length < MIN_FRAME) throw new FrameError(`a frame has at least ${MIN_FRAME} bytes, this one ${frame.length}`);
  if (frame[0] !== FRAME_VERSION) throw new FrameError(`unknown frame format ${frame[0]}`);
  return readUint32(frame, 1);
}

/** Decrypt a frame with the key its header names; FrameError when that key is missing or the frame does not authenticate. */
export async function openFrame(keys: ReadonlyMap<number, CryptoKey>, aad: string, frame: Uint8Array): Promise<Uint8Array> {
  const keyId = frameKeyId(frame);
  const key = keys.get(keyId);
  if (!key) throw new FrameError(`no key ${keyId} on this device`);
  try {
    const plain = await subtle().decrypt(
      { name: "AES-GCM", iv: bytes(frame.subarray(5, FRAME_HEADER)), additionalData: encoder.encode(aad) },
      key,
      bytes(frame.subarray(FRAME_HEADER)),
    );
    return new Uint8Array(plain);
  } catch {
    throw new FrameError("the frame does not authenticate (changed, or moved from another document)");
  }
}

/** This device's ECDH pair: the private key is not extractable, the public key goes to the server raw (65 bytes). */
export interface DeviceKeyPair {
  privateKey: CryptoKey;
  publicRaw: Uint8Array;
}

export async function newDeviceKeyPair(): Promise<DeviceKeyPair> {
  const pair = await subtle().generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  return { privateKey: pair.privateKey, publicRaw: new Uint8Array(await subtle().exportKey("raw", pair.publicKey)) };
}

async function hkdf(secret: Uint8Array, info: string, algorithm: AesKeyGenParams | HmacImportParams, usages: KeyUsage[]): Promise<CryptoKey> {
  const base = await subtle().importKey("raw", bytes(secret), "HKDF", false, ["deriveKey"]);
  return subtle().deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(info) },
    base,
    algorithm,
    false,
    usages,
  );
}

function proofKey(notebookRaw: Uint8Array): Promise<CryptoKey> {
  return hkdf(notebookRaw, "kumpul-device-proof/1", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign", "verify"]);
}

/** `keyId (uint32 BE) || HMAC-SHA256(HKDF(notebook key, "kumpul-device-proof/1"), publicKeyRaw)`. */
export async function deviceProof(notebookRaw: Uint8Array, keyId: number, publicRaw: Uint8Array): Promise<Uint8Array> {
  const mac = await subtle().sign("HMAC", await proofKey(notebookRaw), bytes(publicRaw));
  return concat(uint32(keyId), new Uint8Array(mac));
}

/** Whether `proof` shows that whoever registered `publicRaw` held one of `rawKeys` (by key id). */
export async function verifyProof(rawKeys: ReadonlyMap<number, Uint8Array>, publicRaw: Uint8Array, proof: Uint8Array): Promise<boolean> {
  if (proof.length !== 36 || publicRaw.length !== PUBLIC_RAW) return false;
  const raw = rawKeys.get(readUint32(proof, 0));
  if (!raw) return false;
  return subtle().verify("HMAC", await proofKey(raw), bytes(proof.subarray(4)), bytes(publicRaw));
}

async function wrappingKey(privateKey: CryptoKey, publicRaw: Uint8Array): Promise<CryptoKey> {
  const publicKey = await subtle().importKey("raw", bytes(publicRaw), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = await subtle().deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256);
  return hkdf(new Uint8Array(shared), "kumpul-key-wrap/1", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]);
}

/** The notebook key `keyId` for one device: `ephemeral public (65) || nonce (12) || AES-GCM(raw key)`. */
export async function wrapKey(devicePublicRaw: Uint8Array, notebookRaw: Uint8Array, keyId: number): Promise<Uint8Array> {
  const ephemeral = await subtle().generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const key = await wrappingKey(ephemeral.privateKey, devicePublicRaw);
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE));
  const sealed = await subtle().encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: encoder.encode(`kumpul-key-wrap/1|${keyId}`) },
    key,
    bytes(notebookRaw),
  );
  const ephemeralRaw = new Uint8Array(await subtle().exportKey("raw", ephemeral.publicKey));
  return concat(ephemeralRaw, nonce, new Uint8Array(sealed));
}

/** The raw notebook key `keyId` wrapped for this device; FrameError when it was not (or was changed). */
export async function unwrapKey(privateKey: CryptoKey, wrapped: Uint8Array, keyId: number): Promise<Uint8Array> {
  if (wrapped.length !== PUBLIC_RAW + NONCE + RAW_KEY + 16) throw new FrameError("a wrapped key has the wrong length");
  try {
    const key = await wrappingKey(privateKey, wrapped.subarray(0, PUBLIC_RAW));
    const plain = await subtle().decrypt(
      { name: "AES-GCM", iv: bytes(wrapped.subarray(PUBLIC_RAW, PUBLIC_RAW + NONCE)), additionalData: encoder.encode(`kumpul-key-wrap/1|${keyId}`) },
      key,
      bytes(wrapped.subarray(PUBLIC_RAW + NONCE)),
    );
    return new Uint8Array(plain);
  } catch {
    throw new FrameError("the wrapped key is not for this device");
  }
}

/** The older keys, sealed under the current one: `{"keys": {"1": "<base64 raw>", …}}`. */
export async function sealKeyring(current: CryptoKey, currentId: number, older: ReadonlyMap<number, Uint8Array>, toB64: (data: Uint8Array) => string): Promise<Uint8Array> {
  const keys: Record<string, string> = {};
  for (const [id, raw] of older) if (id < currentId) keys[String(id)] = toB64(raw);
  return sealFrame(current, currentId, KEYRING_AAD, encoder.encode(JSON.stringify({ keys })));
}

export async function openKeyring(current: ReadonlyMap<number, CryptoKey>, frame: Uint8Array, fromB64: (text: string) => Uint8Array): Promise<Map<number, Uint8Array>> {
  const plain = JSON.parse(new TextDecoder().decode(await openFrame(current, KEYRING_AAD, frame))) as { keys?: Record<string, string> };
  const result = new Map<number, Uint8Array>();
  for (const [id, raw] of Object.entries(plain.keys ?? {})) result.set(Number(id), fromB64(raw));
  return result;
}

/** base64url without padding (for the link's fragment). */
export function toBase64Url(data: Uint8Array): string {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  const plain = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(plain + "=".repeat((4 - (plain.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** The link fragment's key: `base64url(keyId (uint32 BE) || raw key)`. */
export function encodeLinkKey(keyId: number, raw: Uint8Array): string {
  return toBase64Url(concat(uint32(keyId), raw));
}

export function decodeLinkKey(text: string): { keyId: number; raw: Uint8Array } | null {
  try {
    const data = fromBase64Url(text);
    if (data.length !== 4 + RAW_KEY) return null;
    const keyId = readUint32(data, 0);
    return keyId >= 1 ? { keyId, raw: data.slice(4) } : null;
  } catch {
    return null;
  }
}
