/** Devices and data (`/device`): link another device (code and QR), use a code, export my notes, erase my data. */

import { useEffect, useRef, useState } from "preact/hooks";

import { TimeoutError } from "../../shared/http";
import {
  ApiError,
  createLinkCode,
  eraseOnServer,
  groupCode,
  linkWithCode,
  normaliseCode,
  type ShownLinkCode,
} from "../../shared/private-api";
import { clearPrivateData } from "../../shared/private-store";
import { privateDocs, privateDocsNow } from "../../shared/ydocs";
import { localized } from "../content";
import { lang, locale, t } from "../prefs";
import { query } from "../router";
import { displayZone, model } from "../store";
import { formatStamp } from "../time";
import { exportFileName, notesToMarkdown } from "../notes/markdown";
import type { QrShape } from "../notes/qr";
import { docsReady, identityState, resumePrivateSync } from "../notes/state";
import { ConfirmDialog, IdentityLost, useDocsVersion } from "../notes/ui";
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
      setCode(created);
      setDeadline(arrived + created.validForMs);
      setClock(arrived);
      // What this device holds goes to the server first, so the other device finds it there.
      void resumePrivateSync().catch(() => undefined);
    } catch (caught) {
      setError(failure(caught, messages, messages["device.failed"]));
    } finally {
      setBusy(false);
    }
  }

  const shown = code ? groupCode(code.code) : "";
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
          <QrCode text={`${window.location.origin}/device?code=${encodeURIComponent(shown)}`} label={messages["device.qrLabel"](shown)} />
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

function UseCode() {
  const messages = t.value;
  const [value, setValue] = useState(() => query.value.get("code") ?? "");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  async function link(event: Event): Promise<void> {
    event.preventDefault();
    if (normaliseCode(value).length === 0) return;
    setBusy(true);
    setResult(null);
    try {
      await privateDocs().then((docs) => docs.flush());
      await linkWithCode(value.trim());
      setValue("");
      setResult({ ok: true, text: messages["device.linked"] });
      await resumePrivateSync().catch(() => undefined);
    } catch (caught) {
      setResult({ ok: false, text: failure(caught, messages, messages["device.badCode"]) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="use-code">
      <h2 id="use-code">{messages["device.useTitle"]}</h2>
      <p>{messages["device.useExplain"]}</p>
      <form class="link-form" onSubmit={(event) => void link(event)}>
        <label class="field">
          <span class="field-label">{messages["device.codeInput"]}</span>
          <input
            type="text"
            class="code-input"
            value={value}
            onInput={(event) => setValue(event.currentTarget.value)}
            autoComplete="one-time-code"
            autoCapitalize="characters"
            spellcheck={false}
            aria-describedby="code-hint"
            maxLength={20}
          />
          <span class="field-hint muted" id="code-hint">
            {messages["device.codeHint"]}
          </span>
        </label>
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? messages["device.working"] : messages["device.link"]}
        </button>
      </form>
      <div role="status">{result && <p class={result.ok ? "callout callout-ok" : "callout callout-warn"}>{result.text}</p>}</div>
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
  }, []);
  return (
    <>
      <p>{messages["device.intro"]}</p>
      {docsReady.value && privateDocsNow() && state !== "lost" && (
        <p class="muted">{state === "active" ? messages["device.stateActive"] : messages["device.stateNone"]}</p>
      )}
      <IdentityLost />
      <LinkAnother />
      <UseCode />
      <ExportNotes />
      <EraseData />
    </>
  );
}
