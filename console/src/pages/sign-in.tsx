import { useState } from "preact/hooks";
import { describeError, signIn, type SessionEnd } from "../api";
import { Button } from "../ui";

/** The key is sent once, over this origin, and exchanged for a session; the field is cleared whatever happens. */
export function SignIn(props: { end?: SessionEnd | undefined }) {
  const [credential, setCredential] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="sign-in">
      <div class="sign-in-card">
        <p class="brand brand-large" aria-hidden="true">
          <span class="brand-mark">M</span> Maskline
        </p>
        <h1>Sign in to the console</h1>
        {props.end && !error && (
          <p class="notice notice-info" role="status">
            {props.end === "signed-out"
              ? "You have signed out; the session is ended on the server."
              : "Your console session has ended (it expired, was signed out elsewhere, or its key was revoked). Sign in again to continue."}
          </p>
        )}
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            const value = credential.trim();
            setCredential("");
            try {
              await signIn(value);
            } catch (err) {
              setError(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          <div class="field">
            <label for="credential">API key or operator token</label>
            <input
              id="credential"
              name="credential"
              type="password"
              autocomplete="off"
              spellcheck={false}
              required
              aria-describedby="credential-hint"
              aria-invalid={error ? "true" : undefined}
              value={credential}
              onInput={(e) => setCredential(e.currentTarget.value)}
            />
            <p class="hint" id="credential-hint">
              A tenant key starts with <code>mk_live_</code>. It is exchanged for a console session that ends after 30
              minutes idle; the key itself is not kept in this browser.
            </p>
          </div>
          {error !== null && (
            <p class="notice notice-error" role="alert">
              {describeError(error)}
            </p>
          )}
          <Button variant="primary" type="submit" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </Button>
        </form>
      </div>
    </main>
  );
}
