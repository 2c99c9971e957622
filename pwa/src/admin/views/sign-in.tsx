/** Signing in with name and password, and setting one's own password after a one-time one. */

import { useState } from "preact/hooks";

import { ApiError } from "../api";
import { knowsCurrentPassword, setPassword, signIn } from "../auth";
import { errorsFrom, waitMessage } from "../fields";
import { s } from "../strings";
import { ErrorSummary, TextField, useFormErrors } from "../ui/fields";
import { Page } from "../ui/page";

export function SignInView({ notice }: { notice: string | null }) {
  const [name, setName] = useState("");
  const [password, setPasswordValue] = useState("");
  const { form, errors, refuse } = useFormErrors();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    if (!name.trim()) missing["name"] = "Enter your name.";
    if (!password) missing["password"] = "Enter your password.";
    if (Object.keys(missing).length) {
      refuse({ fields: missing, general: [] });
      return;
    }
    setBusy(true);
    try {
      await signIn(name.trim(), password);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) refuse({ fields: {}, general: [s.wrongCredentials] });
      else if (error instanceof ApiError && error.status === 429) refuse({ fields: {}, general: [waitMessage(error)] });
      else if (error instanceof ApiError) refuse(errorsFrom(error, ["name", "password"]));
      else refuse({ fields: {}, general: [String(error)] });
      setBusy(false);
    }
  };

  return (
    <Page title={s.signInTitle} wide={false} lead={s.signInLead}>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form ref={form} class="card form-narrow" noValidate onSubmit={(event) => void submit(event)}>
        <ErrorSummary errors={errors} />
        <TextField form="signin" name="name" label={s.name} autoComplete="username" value={name} onValue={setName} error={errors.fields["name"]} />
        <TextField
          form="signin"
          name="password"
          label={s.password}
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPasswordValue}
          error={errors.fields["password"]}
        />
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? s.signingIn : s.signIn}
          </button>
        </div>
      </form>
    </Page>
  );
}

export function SetPasswordView({ name }: { name: string }) {
  const askCurrent = !knowsCurrentPassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const { form, errors, refuse } = useFormErrors();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (askCurrent && !current) found["currentPassword"] = "Enter the password you signed in with.";
    if (next.length < 10) found["newPassword"] = s.passwordTooShort;
    else if (next !== again) found["confirm"] = s.passwordsDiffer;
    if (Object.keys(found).length) {
      refuse({ fields: found, general: [] });
      return;
    }
    setBusy(true);
    try {
      await setPassword(next, askCurrent ? current : undefined);
    } catch (error) {
      if (error instanceof ApiError) {
        const mapped = errorsFrom(error, ["currentPassword", "newPassword"]);
        if (error.status === 401 || error.status === 403) refuse({ fields: { currentPassword: error.detail }, general: [] });
        else refuse(mapped);
      } else {
        refuse({ fields: {}, general: [String(error)] });
      }
      setBusy(false);
    }
  };

  return (
    <Page title={s.setPasswordTitle} wide={false} lead={s.setPasswordLead}>
      <form ref={form} class="card form-narrow" noValidate onSubmit={(event) => void submit(event)}>
        <ErrorSummary errors={{ fields: {}, general: errors.general }} />
        {/* For password managers: whose password this is. */}
        <input type="text" name="username" autoComplete="username" value={name} readOnly hidden />
        {askCurrent && (
          <TextField
            form="password"
            name="currentPassword"
            label={s.currentPassword}
            type="password"
            autoComplete="current-password"
            value={current}
            onValue={setCurrent}
            error={errors.fields["currentPassword"]}
          />
        )}
        <TextField
          form="password"
          name="newPassword"
          label={s.newPassword}
          type="password"
          autoComplete="new-password"
          minLength={10}
          hint={s.passwordHint}
          value={next}
          onValue={setNext}
          error={errors.fields["newPassword"]}
        />
        <TextField
          form="password"
          name="confirm"
          label={s.confirmPassword}
          type="password"
          autoComplete="new-password"
          value={again}
          onValue={setAgain}
          error={errors.fields["confirm"]}
        />
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? s.saving : s.setPassword}
          </button>
        </div>
      </form>
    </Page>
  );
}
