import { useState } from "preact/hooks";
import type { ConsoleSession } from "@maskline/sdk";
import { api, sessionEnded } from "../api";
import { formatDateTime } from "../format";
import { Button, Card, ErrorNotice, Field, Loading, PageHeader, SuccessNotice, useAsync } from "../ui";

export function Settings(props: { session: ConsoleSession }) {
  const settings = useAsync(() => api.settings.get(), []);
  // What the user typed; until they type, the field shows the saved value. (Copying the saved values into state from
  // an effect once they load would overwrite whatever was typed between the form appearing and the effect running.)
  const [typedRetention, setRetention] = useState<string | null>(null);
  const [typedPinLength, setPinLength] = useState<string | null>(null);
  const retentionDays = typedRetention ?? String(settings.data?.retentionDays ?? "");
  const pinLength = typedPinLength ?? String(settings.data?.pinLength ?? "");
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  return (
    <>
      <PageHeader title="Settings" description="How long your data is kept, and how PIN sessions work." />
      {notice && <SuccessNotice>{notice}</SuccessNotice>}
      {failure !== null && <ErrorNotice error={failure} what="The settings were not saved." />}
      <div class="grid-2">
        <Card title="Data">
          {settings.error ? (
            <ErrorNotice error={settings.error} onRetry={settings.reload} />
          ) : !settings.data ? (
            <Loading what="settings" />
          ) : (
            <form
              onSubmit={async (e) => {
                e.preventDefault();
                setNotice(null);
                setFailure(null);
                try {
                  await api.settings.update({ retentionDays: Number(retentionDays), pinLength: Number(pinLength) });
                  setNotice("Settings saved.");
                  settings.reload();
                } catch (err) {
                  if (!sessionEnded(err)) setFailure(err);
                }
              }}
            >
              <Field label="Retention (days)" hint="Ended sessions, their encrypted numbers, calls, events and recordings older than this are deleted by the hourly purge (1–3650).">
                {(id, hint) => <input id={id} type="number" min={1} max={3650} required aria-describedby={hint} value={retentionDays} onInput={(e) => setRetention(e.currentTarget.value)} />}
              </Field>
              <Field label="PIN length" hint="Digits in the PINs of new single-number PIN sessions (4–8).">
                {(id, hint) => <input id={id} type="number" min={4} max={8} required aria-describedby={hint} value={pinLength} onInput={(e) => setPinLength(e.currentTarget.value)} />}
              </Field>
              <Button variant="primary" type="submit">
                Save settings
              </Button>
            </form>
          )}
        </Card>
        <Card title="This console session">
          <dl class="details">
            <dt>Tenant</dt>
            <dd>
              {props.session.tenantName} <span class="mono small">{props.session.tenantId}</span>
            </dd>
            <dt>Signed in with</dt>
            <dd class="mono">{props.session.apiKeyStart}…</dd>
            <dt>Signed in</dt>
            <dd>{formatDateTime(props.session.createdAt)}</dd>
            <dt>Ends at the latest</dt>
            <dd>{formatDateTime(props.session.expiresAt)}</dd>
            <dt>Idle limit</dt>
            <dd>{Math.round(props.session.idleTimeoutSeconds / 60)} minutes</dd>
          </dl>
        </Card>
      </div>
    </>
  );
}
