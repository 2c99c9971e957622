import { describe, expect, it } from "vitest";

import { fromBase64, toBase64 } from "../../src/shared/private-api";
import {
  FrameError,
  decodeLinkKey,
  deviceProof,
  encodeLinkKey,
  frameKeyId,
  importNotebookKey,
  newDeviceKeyPair,
  newRawKey,
  openFrame,
  openKeyring,
  sealFrame,
  sealKeyring,
  unwrapKey,
  vaultAad,
  verifyProof,
  wrapKey,
} from "../../src/shared/vault-crypto";

const text = new TextEncoder();

async function keyring(id: number, raw = newRawKey()): Promise<{ raw: Uint8Array; keys: Map<number, CryptoKey> }> {
  return { raw, keys: new Map([[id, await importNotebookKey(raw)]]) };
}

describe("frames", () => {
  it("round-trips, with the header the server checks", async () => {
    const { keys } = await keyring(3);
    const frame = await sealFrame(keys.get(3)!, 3, vaultAad("note:a", "update"), text.encode("survivor statement"));
    expect(frame[0]).toBe(1);
    expect(frameKeyId(frame)).toBe(3);
    expect(frame.length).toBe(17 + 18 + 16);
    const plain = await openFrame(keys, vaultAad("note:a", "update"), frame);
    expect(new TextDecoder().decode(plain)).toBe("survivor statement");
  });

  it("never reuses a nonce and never shows the plaintext", async () => {
    const { keys } = await keyring(1);
    const nonces = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const frame = await sealFrame(keys.get(1)!, 1, vaultAad("note:a", "update"), text.encode("same words"));
      nonces.add(toBase64(frame.subarray(5, 17)));
      expect(new TextDecoder("latin1").decode(frame)).not.toContain("same words");
    }
    expect(nonces.size).toBe(200);
  });

  it("refuses a changed byte, another document, another kind, and a key it lacks", async () => {
    const { keys } = await keyring(1);
    const aad = vaultAad("note:a", "update");
    const frame = await sealFrame(keys.get(1)!, 1, aad, text.encode("shelter address"));
    for (const at of [5, 20, frame.length - 1]) {
      const tampered = frame.slice();
      tampered[at]! ^= 1;
      await expect(openFrame(keys, aad, tampered)).rejects.toBeInstanceOf(FrameError);
    }
    await expect(openFrame(keys, vaultAad("note:b", "update"), frame)).rejects.toBeInstanceOf(FrameError);
    await expect(openFrame(keys, vaultAad("note:a", "snapshot"), frame)).rejects.toBeInstanceOf(FrameError);
    const other = await keyring(1);
    await expect(openFrame(other.keys, aad, frame)).rejects.toBeInstanceOf(FrameError);
    await expect(openFrame(new Map(), aad, frame)).rejects.toThrow(/no key 1/);
    expect(() => frameKeyId(frame.subarray(0, 32))).toThrow(FrameError);
  });
});

describe("devices", () => {
  it("a proof verifies under the key it was made with, and not for another public key or key", async () => {
    const raw = newRawKey();
    const device = await newDeviceKeyPair();
    expect(device.publicRaw.length).toBe(65);
    expect(device.privateKey.extractable).toBe(false);
    const proof = await deviceProof(raw, 2, device.publicRaw);
    expect(await verifyProof(new Map([[2, raw]]), device.publicRaw, proof)).toBe(true);
    expect(await verifyProof(new Map([[1, raw]]), device.publicRaw, proof)).toBe(false);
    expect(await verifyProof(new Map([[2, newRawKey()]]), device.publicRaw, proof)).toBe(false);
    const intruder = await newDeviceKeyPair();
    expect(await verifyProof(new Map([[2, raw]]), intruder.publicRaw, proof)).toBe(false);
    // A server that makes up a proof without the key.
    const forged = proof.slice();
    forged[10]! ^= 0x80;
    expect(await verifyProof(new Map([[2, raw]]), device.publicRaw, forged)).toBe(false);
  });

  it("a key wrapped for a device opens only with that device's private key and key id", async () => {
    const raw = newRawKey();
    const device = await newDeviceKeyPair();
    const wrapped = await wrapKey(device.publicRaw, raw, 4);
    expect(wrapped.length).toBe(65 + 12 + 48);
    expect(await unwrapKey(device.privateKey, wrapped, 4)).toEqual(raw);
    await expect(unwrapKey(device.privateKey, wrapped, 5)).rejects.toBeInstanceOf(FrameError);
    const other = await newDeviceKeyPair();
    await expect(unwrapKey(other.privateKey, wrapped, 4)).rejects.toBeInstanceOf(FrameError);
  });

  it("the keyring holds the older keys under the current one", async () => {
    const { keys } = await keyring(3);
    const older = new Map([
      [1, newRawKey()],
      [2, newRawKey()],
    ]);
    const sealed = await sealKeyring(keys.get(3)!, 3, older, toBase64);
    expect(frameKeyId(sealed)).toBe(3);
    expect(await openKeyring(keys, sealed, fromBase64)).toEqual(older);
    await expect(openFrame(keys, vaultAad("keyring", "update"), sealed)).rejects.toBeInstanceOf(FrameError);
  });

  it("the link key travels as base64url of key id and raw key", () => {
    const raw = newRawKey();
    const encoded = encodeLinkKey(7, raw);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeLinkKey(encoded)).toEqual({ keyId: 7, raw });
    expect(decodeLinkKey("short")).toBeNull();
    expect(decodeLinkKey(encodeLinkKey(0, raw))).toBeNull();
  });
});
