import { CopyValue } from "./ui";

/** A secret the service shows once: said plainly, copyable, gone when the user leaves the page. */
export function SecretOnce(props: { title: string; value: string; label: string }) {
  return (
    <div class="secret" role="status">
      <p>
        <strong>{props.title}</strong> Copy it now: it is shown only this once and cannot be retrieved later.
      </p>
      <CopyValue value={props.value} label={props.label} />
    </div>
  );
}
