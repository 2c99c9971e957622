/**
 * Devices and data (`/device`): link another device (QR and link, carrying the notebook key in the
 * fragment), use a link (never redeemed without showing whose notebook it is first), the linked
 * devices (rename this one, revoke others), export my notes, erase my data.
 */

import { useEffect, useRef, useState } from "preact/hooks";

import { TimeoutError } from "../../shared/http";
import {
  ApiError,
  createLinkCode,
  eraseOnServer,
  groupCode,
  normaliseCode,
  type ShownLinkCode,
} from "../../shared/private-api";
import { linkWithCode, previewLink, type LinkPreview } from "../../shared/vault-link";
import { clearPrivateData, getIdentity, listDocRecords, needsSync } from "../../shared/private-store";
import { deviceMeta, deviceVerified, listDevices, loadVault, renameDevice, revokeDevice, type DeviceInfo } from "../../shared/vault";
import { decodeLinkKey, encodeLinkKey } from "../../shared/vault-crypto";
import { privateDocs, privateDocsNow } from "../../shared/ydocs";
import { localized } from "../content";
import { lang, locale, t } from "../prefs";
import { query } from "../router";
import { displayZone, model } from "../store";
import { formatStamp } from "../time";
import { exportFileName, notesToMarkdown } from "../notes/markdown";
import type { QrShape } from "../notes/qr";
import { agendaOnServer, docsReady, identityState, refreshVaultState, resumePrivateSync, setAgendaOnServer } from "../notes/state";
import { ConfirmDialog, IdentityLost, LoseEveryDevice, VaultLocked, useDocsVersion } from "../notes/ui";
import { sessionWhen } from "./notes";

type Messages = (typeof t)["value"];

function failure(error: unknown, messages: Messages, badRequest: string): string {
  if (error instanceof ApiError) {
    if (error.status === 429) return messages["device.tooMany"];
    if (error.status >= 400 && error.status < 500) return badRequest;
    return messages["device.failed"];
  }
  if (error instanceof TimeoutError || error instanceof TypeError || !navigator.onLine) return messages["device.needsConnection"];
  return messages["device.failed"];
}

function countdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function QrCode({ text, label }: { text: string; label: string }) {
  const [shape, setShape] = useState<QrShape | null>(null);
  useEffect(() => {
    let live = true;
    void import("../notes/qr").then(({ qrShape }) => live && setShape(qrShape(text)));
    return () => {
      live = false;
    };
  }, [text]);
  return (
    <div class="qr-frame">
      {shape ? (
        <svg class="qr" viewBox={`0 0 ${shape.size} ${shape.size}`} role="img" aria-label={label} shape-rendering="crispEdges">
          <rect width={shape.size} height={shape.size} fill="#ffffff" />
          <path d={shape.path} fill="#000000" />
        </svg>
      ) : (
        <div class="qr" role="img" aria-label={label} />
      )}
    </div>
  );
}

function LinkAnother() {
  const messages = t.value;
  const [code, setCode] = useState<ShownLinkCode | null>(null);
  const [linkKey, setLinkKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The countdown runs on the monotonic clock from the code's arrival, not on the device's date and time.
  const [clock, setClock] = useState(performance.now());
  const [deadline, setDeadline] = useState(0);
  const shownRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    // The button that was pressed is gone: take focus (and the eyes) to the code.
    shownRef.current?.focus({ preventScroll: true });
    shownRef.current?.closest(".link-code-box")?.scrollIntoView({ block: "center" });
  }, [code]);
  useEffect(() => {
    if (!code) return;
    const timer = setInterval(() => setClock(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [code]);
  const left = code ? deadline - clock : 0;
  const expired = code !== null && left <= 0;

  async function show(): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const created = await createLinkCode();
      const arrived = performance.now();
      // What this device holds goes to the server first, so the other device finds it there (and
      // the first device of an attendee makes the notebook key here).
      await resumePrivateSync().catch(() => undefined);
      const vault = await loadVault();
      if (!vault) {
        setError(messages["device.noKeyToShare"]);
        return;
      }
      setLinkKey(encodeLinkKey(vault.keyId, vault.raw.get(vault.keyId)!));
      setCode(created);
      setDeadline(arrived + created.validForMs);
      setClock(arrived);
    } catch (caught) {
      setError(failure(caught, messages, messages["device.failed"]));
    } finally {
      setBusy(false);
    }
  }

  const shown = code ? groupCode(code.code) : "";
  // The key goes in the fragment, which browsers never send to the server.
  const linkUrl = `${window.location.origin}/device?code=${encodeURIComponent(shown)}#k=${linkKey}`;
  return (
    <section aria-labelledby="link-another">
      <h2 id="link-another">{messages["device.linkTitle"]}</h2>
      <p>{messages["device.linkExplain"]}</p>
      {code && !expired && (
        <div class="link-code-box">
          <p class="link-code-caption" id="link-code-caption">
            {messages["device.codeCaption"]}
          </p>
          <p class="link-code" translate={false} tabIndex={-1} ref={shownRef} aria-describedby="link-code-caption">
            {shown}
          </p>
          <QrCode text={linkUrl} label={messages["device.qrLabel"](shown)} />
          <p class="link-code-caption">{messages["device.linkFull"]}</p>
          <p class="link-code-url" translate={false}>
            <code>{linkUrl}</code>
          </p>
          <p class="muted">{messages["device.linkUnlocked"]}</p>
          <p class="link-code-expiry" aria-live="off">
            {messages["device.expiresIn"](countdown(left))}
          </p>
        </div>
      )}
      {expired && <p class="callout">{messages["device.expired"]}</p>}
      {error && (
        <p class="callout callout-warn" role="alert">
          {error}
        </p>
      )}
      {(!code || expired) && (
        <p>
          <button type="button" class="button button-primary" disabled={busy} onClick={() => void show()}>
            {busy ? messages["device.working"] : code ? messages["device.newCode"] : messages["device.showCode"]}
          </button>
        </p>
      )}
    </section>
  );
}

/** A code and, when it came in a link, the notebook key from the link's fragment. */
interface Offer {
  code: string;
  key: { keyId: number; raw: Uint8Array } | null;
}

/** Read what was typed or pasted: a whole link (code and key), or a code alone. */
function parseOffer(text: string, fragmentKey: Offer["key"], fragmentCode: string): Offer {
  const trimmed = text.trim();
  if (/code=/.test(trimmed)) {
    try {
      const url = new URL(trimmed, window.location.origin);
      const hash = new URLSearchParams(url.hash.slice(1));
      return { code: url.searchParams.get("code") ?? "", key: decodeLinkKey(hash.get("k") ?? "") };
    } catch {
      // Not a link after all: read it as a code.
    }
  }
  const same = normaliseCode(trimmed) === normaliseCode(fragmentCode);
  return { code: trimmed, key: same ? fragmentKey : null };
}

/** The key in this page's own fragment (`#k=`), taken once and removed from the address bar and history. */
function takeFragmentKey(): Offer["key"] {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const key = decodeLinkKey(hash.get("k") ?? "");
  if (hash.has("k")) history.replaceState(history.state, "", window.location.pathname + window.location.search);
  return key;
}

function UseCode() {
  const messages = t.value;
  const initialCode = query.value.get("code") ?? "";
  const [fragmentKey] = useState(takeFragmentKey);
  const [value, setValue] = useState(() => (initialCode && fragmentKey ? `${window.location.origin}/device?code=${initialCode}` : initialCode));
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, setPending] = useState<{ offer: Offer; preview: LinkPreview; notes: number } | null>(null);
  const [copyNotes, setCopyNotes] = useState(false);
  const dontRef = useRef<HTMLButtonElement>(null);

  async function ask(offer: Offer): Promise<void> {
    if (normaliseCode(offer.code).length === 0) return;
    setResult(null);
    if (!offer.key) {
      setResult({ ok: false, text: messages["device.needsKey"] });
      return;
    }
    setBusy(true);
    try {
      const preview = await previewLink(offer.code);
      const docs = await privateDocs();
      await docs.flush();
      const notes = docs.notes().filter((note) => !note.deleted && (note.title.trim() || note.body.trim())).length;
      setCopyNotes(false);
      setPending({ offer, preview, notes });
    } catch (caught) {
      setResult({ ok: false, text: failure(caught, messages, messages["device.badCode"]) });
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    // Opened from a link: show whose notebook it is; nothing is linked until the attendee says so.
    if (initialCode) void ask({ code: initialCode, key: fragmentKey });
  }, []);
  useEffect(() => {
    if (pending) {
      dontRef.current?.focus();
      dontRef.current?.closest("section")?.scrollIntoView({ block: "start" });
    }
  }, [pending]);

  function dontLink(): void {
    setPending(null);
    setValue("");
    setResult({ ok: true, text: messages["device.notLinked"] });
  }

  async function link(): Promise<void> {
    if (!pending?.offer.key) return;
    setBusy(true);
    setResult(null);
    try {
      const docs = await privateDocs();
      await docs.flush();
      const keep = copyNotes && pending.notes > 0;
      if (!keep && (pending.notes > 0 || (await getIdentity()))) {
        // What stays behind is on the server of the identity left behind, first.
        const { syncPrivateDocs } = await import("../../shared/private-sync");
        await syncPrivateDocs({ timeoutMs: 10_000 });
        const unsent = (await listDocRecords()).filter((record) => record.id !== "profile" && needsSync(record));
        if (unsent.length > 0 && pending.notes > 0) {
          setResult({ ok: false, text: messages["device.unsentNotes"] });
          return;
        }
      }
      await linkWithCode(pending.offer.code, pending.offer.key, keep);
      if (!keep) {
        await docs.reset();
        await docs.reload();
      }
      setPending(null);
      setValue("");
      setResult({ ok: true, text: messages["device.linked"] });
      await resumePrivateSync().catch(() => undefined);
      await refreshVaultState();
    } catch (caught) {
      setPending(null);
      setResult({ ok: false, text: failure(caught, messages, messages["device.badCode"]) });
    } finally {
      setBusy(false);
    }
  }

  const loc = locale.value;
  return (
    <section aria-labelledby="use-code">
      <h2 id="use-code">{messages["device.useTitle"]}</h2>
      {pending ? (
        <div class="link-confirm" role="group" aria-labelledby="link-confirm-title">
          <h3 id="link-confirm-title">{messages["device.confirmTitle"]}</h3>
          <p>{messages["device.confirmDevices"](pending.preview.devices.length)}</p>
          <ul class="device-list">
            {pending.preview.devices.map((device, index) => (
              <li key={index}>
                <strong>{device.name || "?"}</strong>
                <span class="muted block">
                  {messages["device.deviceLine"](
                    formatStamp(device.linkedAt, loc),
                    device.lastSeenAt ? formatStamp(device.lastSeenAt, loc) : messages["device.neverSeen"],
                  )}
                </span>
              </li>
            ))}
          </ul>
          <p>{messages["device.confirmDocuments"](pending.preview.documents)}</p>
          <p class="callout callout-warn">{messages["device.confirmExplain"]}</p>
          {pending.notes > 0 && (
            <div class="field">
              <label class="field-check">
                <input
                  type="checkbox"
                  checked={copyNotes}
                  aria-describedby="copy-notes-hint"
                  onChange={(event) => setCopyNotes(event.currentTarget.checked)}
                />
                <span>{messages["device.copyNotes"]}</span>
              </label>
              <p class="field-hint muted" id="copy-notes-hint">
                {messages["device.copyNotesHint"](pending.notes)}
              </p>
            </div>
          )}
          <div class="dialog-actions">
            <button type="button" class="button button-primary" ref={dontRef} onClick={dontLink} disabled={busy}>
              {messages["device.dontLink"]}
            </button>
            <button type="button" class="button" onClick={() => void link()} disabled={busy}>
              {busy ? messages["device.working"] : messages["device.linkAnyway"]}
            </button>
          </div>
        </div>
      ) : (
        <>
          <p>{messages["device.useExplain"]}</p>
          <form
            class="link-form"
            onSubmit={(event) => {
              event.preventDefault();
              void ask(parseOffer(value, fragmentKey, initialCode));
            }}
          >
            <label class="field">
              <span class="field-label">{messages["device.codeOrLink"]}</span>
              <input
                type="text"
                class="link-input"
                value={value}
                onInput={(event) => setValue(event.currentTarget.value)}
                autoComplete="off"
                autoCapitalize="off"
                spellcheck={false}
                aria-describedby="code-hint"
              />
              <span class="field-hint muted" id="code-hint">
                {messages["device.codeOrLinkHint"]}
              </span>
            </label>
            <button type="submit" class="button button-primary" disabled={busy}>
              {busy ? messages["device.working"] : messages["device.link"]}
            </button>
          </form>
        </>
      )}
      <div role="status">{result && <p class={result.ok ? "callout callout-ok" : "callout callout-warn"}>{result.text}</p>}</div>
    </section>
  );
}

interface DeviceRow extends DeviceInfo {
  verified: boolean;
}

function LinkedDevices() {
  const messages = t.value;
  const [rows, setRows] = useState<DeviceRow[] | null>(null);
  const [name, setName] = useState("");
  const [revoking, setRevoking] = useState<DeviceRow | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const active = identityState.value === "active";

  async function load(): Promise<void> {
    const identity = await getIdentity();
    if (!identity) return;
    const [devices, vault, device] = await Promise.all([listDevices(identity), loadVault(), deviceMeta()]);
    const verified = await Promise.all(devices.map((each) => deviceVerified(vault, each)));
    setRows(devices.map((each, index) => ({ ...each, verified: verified[index]! })));
    setName((current) => current || device.name);
    await refreshVaultState();
  }

  useEffect(() => {
    if (active) void load().catch((caught: unknown) => setResult({ ok: false, text: failure(caught, messages, messages["device.failed"]) }));
  }, [active]);

  if (!active) return null;

  async function rename(event: Event): Promise<void> {
    event.preventDefault();
    const identity = await getIdentity();
    if (!identity || !name.trim()) return;
    setBusy(true);
    try {
      await renameDevice(identity, name.trim());
      await load();
      setResult({ ok: true, text: messages["device.renamed"] });
    } catch (caught) {
      setResult({ ok: false, text: failure(caught, messages, messages["device.failed"]) });
    } finally {
      setBusy(false);
    }
  }

  async function revoke(): Promise<void> {
    const identity = await getIdentity();
    if (!identity || !revoking) return;
    setBusy(true);
    try {
      await revokeDevice(identity, revoking.id);
      setResult({ ok: true, text: messages["device.revoked"](revoking.name) });
      setRevoking(null);
      await load();
      await resumePrivateSync().catch(() => undefined);
    } catch (caught) {
      setRevoking(null);
      setResult({ ok: false, text: failure(caught, messages, messages["device.failed"]) });
    } finally {
      setBusy(false);
    }
  }

  const loc = locale.value;
  return (
    <section aria-labelledby="linked-devices">
      <h2 id="linked-devices">{messages["device.devicesTitle"]}</h2>
      <p>{messages["device.devicesExplain"]}</p>
      {rows === null ? (
        <p class="loading">{messages["device.loading"]}</p>
      ) : (
        <ul class="device-list">
          {rows.map((row) => (
            <li key={row.id}>
              <span class="device-name">
                <strong>{row.name || "?"}</strong>
                {row.current && <span class="muted">({messages["device.thisDevice"]})</span>}
              </span>
              <span class="muted block">
                {messages["device.deviceLine"](formatStamp(row.linkedAt, loc), row.lastSeenAt ? formatStamp(row.lastSeenAt, loc) : messages["device.neverSeen"])}
              </span>
              {!row.verified && <span class="callout-warn block">{messages["device.notVerified"]}</span>}
              {!row.current && (
                <button type="button" class="button button-danger-quiet" onClick={() => setRevoking(row)}>
                  {messages["device.revoke"](row.name || "?")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <form class="link-form" onSubmit={(event) => void rename(event)}>
        <label class="field">
          <span class="field-label">{messages["device.rename"]}</span>
          <input type="text" class="link-input" value={name} maxLength={60} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <button type="submit" class="button" disabled={busy}>
          {messages["device.renameSave"]}
        </button>
      </form>
      <div role="status">{result && <p class={result.ok ? "callout callout-ok" : "callout callout-warn"}>{result.text}</p>}</div>
      <ConfirmDialog
        open={revoking !== null}
        title={revoking ? messages["device.revokeQuestion"](revoking.name || "?") : ""}
        confirm={busy ? messages["device.working"] : messages["device.revoke"](revoking?.name || "?")}
        busy={busy}
        onCancel={() => setRevoking(null)}
        onConfirm={() => void revoke()}
      >
        <p>{messages["device.revokeExplain"]}</p>
      </ConfirmDialog>
    </section>
  );
}

/** Whether the server may see my agenda: what it can see, in plain words, either way. */
function AgendaPrivacy() {
  const messages = t.value;
  const [busy, setBusy] = useState(false);
  const on = agendaOnServer.value;
  return (
    <section aria-labelledby="agenda-privacy">
      <h2 id="agenda-privacy">{messages["device.agendaTitle"]}</h2>
      <label class="field field-check">
        <input
          type="checkbox"
          checked={on}
          disabled={busy || !docsReady.value}
          aria-describedby="agenda-privacy-hint"
          onChange={(event) => {
            const next = event.currentTarget.checked;
            setBusy(true);
            void setAgendaOnServer(next).finally(() => setBusy(false));
          }}
        />
        <span>{messages["device.agendaSwitch"]}</span>
      </label>
      <p class="field-hint" id="agenda-privacy-hint">
        {on ? messages["device.agendaOn"] : messages["device.agendaOff"]}
      </p>
    </section>
  );
}

function ExportNotes() {
  const messages = t.value;
  const [empty, setEmpty] = useState(false);

  async function download(): Promise<void> {
    const docs = await privateDocs();
    await docs.flush();
    const current = model.value;
    const zone = displayZone.value;
    const event = current?.programme.event;
    const heading = event ? `${messages["notes.title"]} — ${localized(event, "name", lang.value)}` : messages["notes.title"];
    const text = notesToMarkdown(docs.notes(), {
      heading,
      sessionOf: (id) => {
        const session = current?.sessions.get(id);
        return session && { title: localized(session, "title", lang.value), start: session.start, when: sessionWhen(session, zone, locale.value) };
      },
      untitled: messages["notes.untitled"],
      sessionGone: messages["notes.sessionGone"],
      written: (at) => messages["notes.written"](formatStamp(at, locale.value)),
    });
    const hasNotes = text.includes("\n## ");
    setEmpty(!hasNotes);
    if (!hasNotes) return;
    const url = URL.createObjectURL(new Blob([text], { type: "text/markdown;charset=utf-8" }));
    const anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = exportFileName();
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  return (
    <section aria-labelledby="export-notes">
      <h2 id="export-notes">{messages["device.exportTitle"]}</h2>
      <p>{messages["device.exportExplain"]}</p>
      <p>
        <button type="button" class="button" onClick={() => void download()}>
          {messages["device.exportTitle"]}
        </button>
      </p>
      <div role="status">{empty && <p class="callout">{messages["device.exportNone"]}</p>}</div>
    </section>
  );
}

function EraseData() {
  const messages = t.value;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  async function erase(): Promise<void> {
    setBusy(true);
    setResult(null);
    try {
      await eraseOnServer();
      const docs = await privateDocs();
      await docs.reset();
      await clearPrivateData();
      await resumePrivateSync().catch(() => undefined);
      setConfirming(false);
      setResult({ ok: true, text: messages["device.erased"] });
    } catch (caught) {
      setConfirming(false);
      setResult({ ok: false, text: failure(caught, messages, messages["device.failed"]) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="erase-data">
      <h2 id="erase-data">{messages["device.eraseTitle"]}</h2>
      <p>{messages["device.eraseExplain"]}</p>
      <p>
        <button type="button" class="button button-danger-quiet" onClick={() => setConfirming(true)}>
          {messages["device.eraseTitle"]}
        </button>
      </p>
      <div role="status">{result && <p class={result.ok ? "callout callout-ok" : "callout callout-warn"}>{result.text}</p>}</div>
      <ConfirmDialog
        open={confirming}
        title={messages["device.eraseQuestion"]}
        confirm={busy ? messages["device.working"] : messages["device.eraseConfirm"]}
        busy={busy}
        onCancel={() => setConfirming(false)}
        onConfirm={() => void erase()}
      >
        <p>{messages["device.eraseExplain"]}</p>
      </ConfirmDialog>
    </section>
  );
}

export function DeviceContent() {
  const messages = t.value;
  useDocsVersion();
  const state = identityState.value;
  useEffect(() => {
    if (query.value.get("code")) document.getElementById("use-code")?.scrollIntoView();
    void refreshVaultState();
  }, []);
  return (
    <>
      <p>{messages["device.intro"]}</p>
      {docsReady.value && privateDocsNow() && state !== "lost" && (
        <p class="muted">{state === "active" ? messages["device.stateActive"] : messages["device.stateNone"]}</p>
      )}
      <IdentityLost />
      <VaultLocked />
      <LoseEveryDevice onDevicePage />
      <LinkAnother />
      <UseCode />
      <LinkedDevices />
      <AgendaPrivacy />
      <ExportNotes />
      <EraseData />
    </>
  );
}
