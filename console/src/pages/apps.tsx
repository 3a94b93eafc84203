import { useState } from "preact/hooks";
import { api, sessionEnded } from "../api";
import { formatDateTime, relative } from "../format";
import { Badge, Button, Card, CopyValue, Empty, ErrorNotice, Field, ListState, PageHeader, SuccessNotice, useAsync } from "../ui";

export function Apps() {
  const apps = useAsync(async () => (await api.apps.list({ limit: 100 })).data, []);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <PageHeader title="Apps" description="Your Vobiz applications: paste these exact URLs into Vobiz, then check that signed requests arrive." />
      {notice && <SuccessNotice>{notice}</SuccessNotice>}
      {failure !== null && <ErrorNotice error={failure} what="The app was not registered." />}
      <ListState
        list={apps}
        what="apps"
        empty={<Empty title="No apps yet">Register your Vobiz application below; its answer and hangup URLs appear here to paste into Vobiz.</Empty>}
      >
        {(list) => (
          <div class="stack">
            {list.map((app) => (
              <Card key={app.id} title={app.name}>
                <dl class="details">
                  <dt>Last signed request</dt>
                  <dd>
                    {app.lastSignedRequestAt ? (
                      <span title={formatDateTime(app.lastSignedRequestAt)}>
                        <Badge tone="good">Receiving</Badge> {relative(app.lastSignedRequestAt)}
                      </span>
                    ) : (
                      <span>
                        <Badge tone="warn">None yet</Badge> No signed request from Vobiz has arrived: check the URLs below are in your Vobiz application, with method POST.
                      </span>
                    )}
                  </dd>
                  <dt>Answer URL</dt>
                  <dd>
                    <CopyValue value={app.answerUrl} label={`answer URL of ${app.name}`} />
                  </dd>
                  <dt>Hangup URL</dt>
                  <dd>
                    <CopyValue value={app.hangupUrl} label={`hangup URL of ${app.name}`} />
                  </dd>
                  <dt>Vobiz auth id</dt>
                  <dd class="mono">{app.vobizAuthId}</dd>
                  <dt>Signatures</dt>
                  <dd>{app.signatureRequired ? "Required" : "Not required (unsigned requests accepted)"}</dd>
                  <dt>Country</dt>
                  <dd>{app.defaultCountry}</dd>
                  <dt>Recording</dt>
                  <dd>{app.recordCalls ? "Sessions record by default" : "Off by default"}</dd>
                </dl>
              </Card>
            ))}
          </div>
        )}
      </ListState>
      <Card title="Register an app">
        <form
          class="form-grid"
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.currentTarget;
            const data = new FormData(form);
            setBusy(true);
            setNotice(null);
            setFailure(null);
            try {
              const app = await api.apps.create({
                name: String(data.get("name")),
                vobizAuthId: String(data.get("vobizAuthId")),
                vobizAuthToken: String(data.get("vobizAuthToken")),
              });
              form.reset();
              setNotice(`Registered ${app.name}. Paste its URLs into Vobiz.`);
              apps.reload();
            } catch (err) {
              if (!sessionEnded(err)) setFailure(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          <Field label="Name">{(id) => <input id={id} name="name" required maxLength={200} />}</Field>
          <Field label="Vobiz auth id">{(id) => <input id={id} name="vobizAuthId" required maxLength={100} autocomplete="off" />}</Field>
          <Field label="Vobiz auth token" hint="Stored encrypted; never shown again.">
            {(id, hint) => <input id={id} name="vobizAuthToken" type="password" required maxLength={200} autocomplete="off" aria-describedby={hint} />}
          </Field>
          <div class="form-actions">
            <Button variant="primary" type="submit" disabled={busy}>
              {busy ? "Registering…" : "Register app"}
            </Button>
          </div>
        </form>
      </Card>
    </>
  );
}
