import { useEffect, useState } from "preact/hooks";
import { api, describeError, sessionEnded } from "./api";
import { Button } from "./ui";

/**
 * Plays a recording: the audio is fetched through the API (never a public link) and played from a blob: URL that is
 * released when the player goes away.
 */
export function RecordingPlayer(props: { recordingId: string; label: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  if (url) return <audio controls src={url} aria-label={props.label} class="player" />;
  return (
    <span>
      <Button
        variant="secondary"
        class="btn-small"
        disabled={busy}
        aria-label={`Play ${props.label}`}
        onClick={async () => {
          setBusy(true);
          try {
            const media = await api.recordings.media(props.recordingId);
            setUrl(URL.createObjectURL(new Blob([media.data], { type: media.contentType || "audio/mpeg" })));
          } catch (err) {
            if (!sessionEnded(err)) setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? "Loading…" : "Play recording"}
      </Button>
      {error !== null && (
        <span class="inline-error" role="alert">
          {describeError(error)}
        </span>
      )}
    </span>
  );
}
