/**
 * Organisers (admins only): who may use the console, adding one (token and one-time password shown once),
 * resets (which revoke the API token too), new API tokens, when each token was last used, removal.
 */

import { useEffect, useRef, useState } from "preact/hooks";

import { ApiError, del, get, post } from "../api";
import { auth } from "../auth";
import { errorsFrom } from "../fields";
import { zone } from "../programme";
import { ROLE_TEXT, type Role } from "../roles";
import { s } from "../strings";
import { confirmAction } from "../ui/dialog";
import { ErrorSummary, SelectField, TextField, useFormErrors } from "../ui/fields";
import { focusAfterRemoval, Page, Problem } from "../ui/page";
import { announce } from "../ui/status";
import { formatExact, relativeTime } from "../zone";

export interface OrganiserRow {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  hasPassword: boolean;
  /** Null once the token was revoked. */
  tokenIssuedAt: string | null;
  /** To the minute; null when the current token was never used. */
  tokenLastUsedAt: string | null;
}

interface Credentials {
  title: string;
  token?: string;
  oneTimePassword?: string;
}

function TokenUse({ row, tz }: { row: OrganiserRow; tz: string }) {
  if (row.tokenIssuedAt === null) return <>{s.tokenRevoked}</>;
  if (row.tokenLastUsedAt === null) return <>{s.tokenNeverUsed}</>;
  return (
    <time dateTime={row.tokenLastUsedAt} title={formatExact(row.tokenLastUsedAt, tz)}>
      {relativeTime(row.tokenLastUsedAt, Date.now())}
    </time>
  );
}

function CopyField({ label, value, id }: { label: string; value: string; id: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Without clipboard access (plain http), select the text for Ctrl+C.
      const input = document.getElementById(id) as HTMLInputElement | null;
      input?.select();
      document.execCommand?.("copy");
    }
    setCopied(true);
    announce(s.copied);
    setTimeout(() => setCopied(false), 3000);
  };
  return (
    <div class="field copy-field">
      <label class="field-label" for={id}>
        {label}
      </label>
      <div class="copy-row">
        <input id={id} type="text" readOnly value={value} class="mono" onFocus={(event) => event.currentTarget.select()} />
        <button type="button" class="button button-small" aria-label={s.copyNamed(label)} onClick={() => void copy()}>
          {copied ? s.copied : s.copy}
        </button>
      </div>
    </div>
  );
}

function CredentialsPanel({ credentials, onDone }: { credentials: Credentials; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [credentials]);
  return (
    <section class="card credentials" aria-labelledby="credentials-title">
      <h2 id="credentials-title" ref={heading} tabIndex={-1}>
        {credentials.title}
      </h2>
      <p>{s.credentialsOnce}</p>
      {credentials.token && <CopyField id="credential-token" label={s.apiToken} value={credentials.token} />}
      {credentials.oneTimePassword && <CopyField id="credential-password" label={s.oneTimePassword} value={credentials.oneTimePassword} />}
      <button type="button" class="button" onClick={onDone}>
        {s.done}
      </button>
    </section>
  );
}

function AddOrganiser({ onAdded }: { onAdded: (credentials: Credentials) => void }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("editor");
  const { form, errors, refuse, clear } = useFormErrors();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) {
      refuse({ fields: { name: "Enter a name." }, general: [] });
      return;
    }
    setBusy(true);
    try {
      const created = await post<{ organiser: { name: string }; token: string; oneTimePassword: string }>("/api/admin/organisers", { name: name.trim(), role });
      clear();
      setName("");
      onAdded({ title: s.organiserAdded(created.organiser.name), token: created.token, oneTimePassword: created.oneTimePassword });
    } catch (error) {
      refuse(error instanceof ApiError ? errorsFrom(error, ["name", "role"]) : { fields: {}, general: [String(error)] });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={form} class="card add-organiser" noValidate onSubmit={(event) => void submit(event)} aria-labelledby="add-title">
      <h2 id="add-title">{s.addOrganiser}</h2>
      <ErrorSummary errors={errors} />
      <div class="pair">
        <TextField form="organiser" name="name" label={s.fieldOrganiserName} hint={s.organiserNameHint} autoComplete="off" value={name} onValue={setName} error={errors.fields["name"]} />
        <SelectField
          form="organiser"
          name="role"
          label={s.fieldOrganiserRole}
          value={role}
          onValue={(value) => setRole(value as Role)}
          options={(["editor", "announcer", "volunteer", "admin"] as const).map((value) => ({ value, label: s.roleText[value] ?? ROLE_TEXT[value] }))}
          error={errors.fields["role"]}
        />
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? s.saving : s.addOrganiserDo}
        </button>
      </div>
    </form>
  );
}

export function OrganisersView() {
  const [rows, setRows] = useState<OrganiserRow[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [credentials, setCredentials] = useState<Credentials | null>(null);
  const me = auth.value.state === "signedIn" ? auth.value.organiser : null;
  const tz = zone.value;

  const load = async () => {
    try {
      setRows(await get<OrganiserRow[]>("/api/admin/organisers"));
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const reset = async (row: OrganiserRow) => {
    const ok = await confirmAction({ title: s.confirmResetTitle(row.name), text: s.confirmResetText, confirm: s.resetPassword });
    if (!ok) return;
    try {
      const result = await post<{ oneTimePassword: string }>(`/api/admin/organisers/${row.id}/password-reset`);
      setProblem(null);
      setCredentials({ title: s.passwordReset(row.name), oneTimePassword: result.oneTimePassword });
      void load();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };

  const newToken = async (row: OrganiserRow) => {
    const ok = await confirmAction({ title: s.confirmTokenTitle(row.name), text: s.confirmTokenText, confirm: s.newToken });
    if (!ok) return;
    try {
      const result = await post<{ token: string }>(`/api/admin/organisers/${row.id}/token`);
      setProblem(null);
      setCredentials({ title: s.tokenIssued(row.name), token: result.token });
      void load();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };

  const remove = async (row: OrganiserRow) => {
    const ok = await confirmAction({ title: s.confirmRemoveTitle(row.name), text: s.confirmRemoveText, confirm: s.remove });
    if (!ok) return;
    try {
      await del(`/api/admin/organisers/${row.id}`);
      setProblem(null);
      announce(s.removed(row.name));
      void load();
      focusAfterRemoval();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };

  return (
    <Page title={s.organisersTitle}>
      {credentials ? (
        <CredentialsPanel
          credentials={credentials}
          onDone={() => {
            setCredentials(null);
            setTimeout(() => document.getElementById("page-title")?.focus(), 0);
          }}
        />
      ) : (
        <AddOrganiser
          onAdded={(created) => {
            setCredentials(created);
            void load();
          }}
        />
      )}
      {problem && <Problem>{problem}</Problem>}
      {rows === null ? (
        !problem && <p class="loading">{s.loading}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">{s.organisersTitle}</caption>
            <thead>
              <tr>
                <th scope="col">{s.colName}</th>
                <th scope="col">{s.colRole}</th>
                <th scope="col">{s.colPassword}</th>
                <th scope="col">{s.colAdded}</th>
                <th scope="col">{s.colTokenUsed}</th>
                <th scope="col">
                  <span class="visually-hidden">{s.colActions}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const self = me?.id === row.id || me?.name === row.name;
                return (
                  <tr key={row.id}>
                    <th scope="row">
                      {row.name}
                      {self && <span class="muted"> ({s.you})</span>}
                    </th>
                    <td>{s.roleNames[row.role] ?? row.role}</td>
                    <td>{row.hasPassword ? s.passwordChosen : s.passwordPending}</td>
                    <td>
                      <time dateTime={row.createdAt} title={formatExact(row.createdAt, tz)}>
                        {relativeTime(row.createdAt, Date.now())}
                      </time>
                    </td>
                    <td>
                      <TokenUse row={row} tz={tz} />
                    </td>
                    <td class="row-actions">
                      <button type="button" class="button button-small" aria-label={s.newTokenNamed(row.name)} onClick={() => void newToken(row)}>
                        {s.newToken}
                      </button>
                      {!self && (
                        <>
                          <button type="button" class="button button-small" aria-label={s.resetPasswordNamed(row.name)} onClick={() => void reset(row)}>
                            {s.resetPassword}
                          </button>
                          <button type="button" class="button button-small button-danger-quiet" aria-label={s.removeNamed(row.name)} onClick={() => void remove(row)}>
                            {s.remove}
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
